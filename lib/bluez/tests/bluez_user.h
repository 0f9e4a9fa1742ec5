/* What each test module (bluez_user_a.la, bluez_user_b.la) exports: a
 * stand-in for a plugin module using the shared BlueZ client. */
#ifndef VQ_BLUEZ_USER_H
#define VQ_BLUEZ_USER_H

#include <uv.h>

typedef int (*bluez_user_start_fn)(uv_loop_t *loop);
typedef int (*bluez_user_call_fn)(void);

/* Symbols looked up with lt_dlsym. */
#define BLUEZ_USER_START "bluez_user_start"
#define BLUEZ_USER_PAUSE "bluez_user_pause"
#define BLUEZ_USER_RESUME "bluez_user_resume"
#define BLUEZ_USER_STOP "bluez_user_stop"

#endif
