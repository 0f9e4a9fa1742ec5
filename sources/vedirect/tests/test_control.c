/* HEX in-flight tracking: matching replies, time-outs, retries, framing
 * error replies, unknown commands, queueing and cancelling. */
#include <errno.h>
#include <stdint.h>

#include "../vedirect_control.h"
#include "../vedirect_hex.h"
#include "ved_test.h"

static char sent[16][32];
static int nsent, fail_send;
static int ndone, last_status;
static uint32_t last_tag;
static struct ved_hex_frame last_reply;

static int send_cb(void *arg, const char *frame, size_t len) {
  (void)arg;
  if (nsent < 16) snprintf(sent[nsent], sizeof sent[0], "%.*s", (int)len, frame);
  nsent++;
  return fail_send ? -EIO : 0;
}

static void done_cb(void *arg, uint32_t tag, int status,
                    const struct ved_hex_frame *reply) {
  (void)arg;
  ndone++;
  last_tag = tag;
  last_status = status;
  if (reply) last_reply = *reply;
}

static void reply(struct ved_ctl *c, const char *frame, uint64_t now, int want) {
  struct ved_hex_frame f;
  CHECK_INT(ved_hex_decode(frame, strlen(frame), &f), 0);
  CHECK_INT(ved_ctl_on_frame(c, &f, now), want);
}

static struct ved_ctl_req req(uint8_t cmd, uint16_t reg, uint32_t tag) {
  struct ved_ctl_req r;
  memset(&r, 0, sizeof r);
  r.cmd = cmd;
  r.reg = reg;
  r.done = done_cb;
  r.tag = tag;
  return r;
}

int main(void) {
  struct ved_ctl c;
  struct ved_ctl_req r;

  ved_ctl_init(&c, 1000, 2, send_cb, NULL);
  CHECK(ved_ctl_deadline(&c) == UINT64_MAX);
  /* Get 0xEDF0, answered: done with the reply. */
  r = req(VED_CMD_GET, 0xEDF0, 7);
  CHECK_INT(ved_ctl_submit(&c, &r, 100), 0);
  CHECK_INT(nsent, 1);
  CHECK_STR(sent[0], ":7F0ED0071\n");
  CHECK(ved_ctl_deadline(&c) == 1100);
  /* async frames and replies for other registers do not answer it */
  reply(&c, ":A0102000543", 150, 0);
  reply(&c, ":7001000C80076", 160, 0);
  reply(&c, ":7F0ED009600DB", 200, 1);
  CHECK_INT(ndone, 1);
  CHECK_INT(last_status, 0);
  CHECK_INT(last_tag, 7);
  CHECK_INT(last_reply.payload[3], 0x96);
  CHECK(ved_ctl_deadline(&c) == UINT64_MAX);
  /* a stray reply with nothing in flight is not an answer */
  reply(&c, ":7F0ED009600DB", 210, 0);

  /* Time-outs: two retries, then -ETIMEDOUT. */
  nsent = 0;
  r = req(VED_CMD_SET, 0xEDF0, 8);
  r.value[0] = 0x2C;
  r.value[1] = 0x01;
  r.vlen = 2;
  CHECK_INT(ved_ctl_submit(&c, &r, 1000), 0);
  CHECK_STR(sent[0], ":8F0ED002C0143\n");
  ved_ctl_tick(&c, 1999); /* not yet */
  CHECK_INT(nsent, 1);
  ved_ctl_tick(&c, 2000);
  CHECK_INT(nsent, 2);
  CHECK_STR(sent[1], sent[0]);
  ved_ctl_tick(&c, 3000);
  CHECK_INT(nsent, 3);
  CHECK_INT(ndone, 1);
  ved_ctl_tick(&c, 4000);
  CHECK_INT(ndone, 2);
  CHECK_INT(last_status, -ETIMEDOUT);
  CHECK_INT(last_tag, 8);
  CHECK_INT(c.timeouts, 3);

  /* A framing-error reply (:4AAAAFD) sends the request again. */
  nsent = 0;
  r = req(VED_CMD_PING, 0, 9);
  CHECK_INT(ved_ctl_submit(&c, &r, 5000), 0);
  CHECK_STR(sent[0], ":154\n");
  reply(&c, ":4AAAAFD", 5010, 1);
  CHECK_INT(nsent, 2);
  reply(&c, ":51641F9", 5020, 1);
  CHECK_INT(last_status, 0);
  CHECK_INT(last_tag, 9);
  CHECK_INT(ndone, 3);

  /* Unknown command (:3 + the command) fails at once. */
  r = req(VED_CMD_APP_VERSION, 0, 10);
  CHECK_INT(ved_ctl_submit(&c, &r, 6000), 0);
  reply(&c, ":303004F", 6010, 1);
  CHECK_INT(last_status, -EOPNOTSUPP);
  CHECK_INT(ndone, 4);

  /* Queue: the second waits for the first; the order is kept. */
  nsent = 0;
  r = req(VED_CMD_PRODUCT_ID, 0, 11);
  CHECK_INT(ved_ctl_submit(&c, &r, 7000), 0);
  r = req(VED_CMD_GET, 0x1000, 12);
  CHECK_INT(ved_ctl_submit(&c, &r, 7000), 0);
  CHECK_INT(nsent, 1);
  reply(&c, ":1000351", 7010, 1);
  CHECK_INT(last_tag, 11);
  CHECK_INT(nsent, 2);
  CHECK_STR(sent[1], ":70010003E\n");
  CHECK(ved_ctl_deadline(&c) == 8010);
  reply(&c, ":70010007800C6", 7020, 1);
  CHECK_INT(last_tag, 12);
  CHECK_INT(ndone, 6);

  /* Full queue, bad command, cancel. */
  {
    int i;
    for (i = 0; i < VED_CTL_QUEUE; i++) {
      r = req(VED_CMD_GET, (uint16_t)i, (uint32_t)(100 + i));
      CHECK_INT(ved_ctl_submit(&c, &r, 8000), 0);
    }
    CHECK_INT(ved_ctl_submit(&c, &r, 8000), -ENOSPC);
    r = req(VED_CMD_RESTART, 0, 1);
    ved_ctl_cancel_all(&c, -ENOTCONN);
    CHECK_INT(ndone, 6 + VED_CTL_QUEUE);
    CHECK_INT(last_status, -ENOTCONN);
    CHECK_INT(last_tag, 100 + VED_CTL_QUEUE - 1);
    CHECK_INT(ved_ctl_submit(&c, &r, 9000), -EINVAL);
  }
  /* A failed send is retried by the time-out like a lost frame. */
  fail_send = 1;
  nsent = 0;
  r = req(VED_CMD_PING, 0, 13);
  CHECK_INT(ved_ctl_submit(&c, &r, 10000), 0);
  fail_send = 0;
  ved_ctl_tick(&c, 11000);
  CHECK_INT(nsent, 2);
  reply(&c, ":51641F9", 11010, 1);
  CHECK_INT(last_status, 0);
  CHECK_INT(c.errors, 1);
  VQTEST_END();
}
