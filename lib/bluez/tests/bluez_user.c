/* A module that subscribes to company 0x02E1 through the shared BlueZ
 * client and prints what it gets, tagged with USER_TAG:
 *   ADV <tag> <address> <hex data>   (stdout)
 *   LOG <tag> <level> <message>      (stdout) */
#include <stdio.h>

#include "bluez_user.h"
#include "vq_bluez.h"

int bluez_user_start(uv_loop_t *loop);
int bluez_user_pause(void);
int bluez_user_resume(void);
int bluez_user_stop(void);

static struct vq_bluez_sub *sub;

static void on_adv(void *arg, const struct vq_bluez_adv *a) {
  size_t i;
  (void)arg;
  printf("ADV %s %02X:%02X:%02X:%02X:%02X:%02X ", USER_TAG, a->addr[0], a->addr[1],
         a->addr[2], a->addr[3], a->addr[4], a->addr[5]);
  for (i = 0; i < a->len; i++) printf("%02x", a->data[i]);
  printf("\n");
  fflush(stdout);
}

static void on_log(void *arg, int level, const char *msg) {
  (void)arg;
  printf("LOG %s %d %s\n", USER_TAG, level, msg);
  fflush(stdout);
}

static void on_done(void *arg) {
  (void)arg;
  printf("DONE %s\n", USER_TAG);
  fflush(stdout);
}

int bluez_user_start(uv_loop_t *loop) {
  return vq_bluez_subscribe(loop, NULL, 0x02E1, on_adv, on_log, NULL, &sub);
}

int bluez_user_pause(void) { return vq_bluez_discovery_pause(sub); }

int bluez_user_resume(void) { return vq_bluez_discovery_resume(sub); }

int bluez_user_stop(void) {
  struct vq_bluez_sub *s = sub;
  sub = NULL;
  vq_bluez_unsubscribe(s, on_done, NULL);
  return 0;
}
