/* The writable-register machine (vedirect_write.c) against a simulated
 * register, on an injected clock: Get, compare, spacing, Set, verify, and
 * what the device can refuse. */
#include <errno.h>
#include <stdint.h>

#include "vedirect_write.h"
#include "ved_test.h"

static struct {
  uint64_t now_ms;
  int64_t now_ns;
  /* the last request */
  int nsub, nset, set, fail_submit;
  uint16_t reg;
  uint8_t val[4];
  size_t vlen;
  uint32_t tag;
  /* outputs */
  int ndone, status;
  uint64_t ticket;
  char msg[200];
  int nvalue;
  double value;
  /* the one timer */
  vq_callback timer_cb;
  void *timer_arg;
  uint64_t timer_ms;
  int timers;
} t;

static struct vq_timer *const fake_timer = (struct vq_timer *)&t;

static int f_submit(void *arg, int set, uint16_t reg, const uint8_t *val,
                    size_t vlen, uint32_t tag) {
  if (t.fail_submit) return -ENOBUFS;
  t.nsub++;
  t.nset += set;
  t.set = set;
  t.reg = reg;
  t.vlen = vlen;
  if (vlen) memcpy(t.val, val, vlen);
  t.tag = tag;
  return 0;
}
static void f_value(void *arg, const struct ved_write_reg *r, double value) {
  t.nvalue++;
  t.value = value;
}
static void f_done(void *arg, uint64_t ticket, int status, const char *msg) {
  t.ndone++;
  t.ticket = ticket;
  t.status = status;
  snprintf(t.msg, sizeof t.msg, "%s", msg);
}
static struct vq_timer *f_timer_start(void *arg, uint64_t ms, vq_callback cb,
                                      void *cb_arg) {
  t.timers++;
  t.timer_ms = ms;
  t.timer_cb = cb;
  t.timer_arg = cb_arg;
  return fake_timer;
}
static void f_timer_stop(void *arg, struct vq_timer *timer) {
  CHECK(timer == fake_timer);
  t.timers--;
}
static uint64_t f_now_ms(void *arg) { return t.now_ms; }
static int64_t f_now_ns(void *arg) { return t.now_ns; }

static const struct ved_write_ops ops = {f_submit,      f_value,  f_done,
                                         f_timer_start, f_timer_stop,
                                         f_now_ms,      f_now_ns, NULL};

/* The device answers the last request: register value raw, flags. */
static void answer(struct ved_writer *w, uint16_t raw, uint8_t flags) {
  struct ved_hex_frame f;
  memset(&f, 0, sizeof f);
  f.cmd = t.set ? VED_RSP_SET : VED_RSP_GET;
  f.payload[0] = (uint8_t)(t.reg & 0xFF);
  f.payload[1] = (uint8_t)(t.reg >> 8);
  f.payload[2] = flags;
  f.payload[3] = (uint8_t)(raw & 0xFF);
  f.payload[4] = (uint8_t)(raw >> 8);
  f.len = 5;
  ved_writer_reply(w, t.tag, 0, &f);
}

static struct vq_command cmd(uint64_t ticket, double value) {
  struct vq_command c;
  memset(&c, 0, sizeof c);
  c.size = sizeof c;
  c.ticket = ticket;
  c.quantity = "charger.current_limit";
  c.value = value;
  c.deadline_ns = t.now_ns + 5000000000LL;
  return c;
}

static void run(struct ved_writer *w, uint64_t ticket, double value) {
  struct vq_command c = cmd(ticket, value);
  const char *why = NULL;
  CHECK_INT(ved_writer_command(w, &c, &why), 0);
}

int main(void) {
  struct ved_writer w;
  struct vq_command c;
  const char *why = NULL;

  /* the table: one row is the descriptor's writable and the register */
  CHECK_STR(ved_writables[0].quantity, "charger.current_limit");
  CHECK_DBL(ved_writables[0].max, 6553.5);
  CHECK_DBL(ved_writables[0].step, 0.1);
  CHECK(ved_writables[VED_WRITE_NREGS].quantity == NULL);
  CHECK_INT(ved_write_regs[0].reg, 0xEDF0);

  t.now_ms = 1000;
  t.now_ns = 1000000000000LL;
  ved_writer_init(&w, &ops, 30000);

  c = cmd(1, 10);
  c.quantity = "battery.voltage";
  CHECK_INT(ved_writer_command(&w, &c, &why), -EOPNOTSUPP);
  c = cmd(1, 6553.6);
  CHECK_INT(ved_writer_command(&w, &c, &why), -ERANGE);
  CHECK_INT(t.nsub, 0);

  /* the same value: read, not rewritten */
  run(&w, 2, 15.0);
  CHECK_INT(t.nsub, 1);
  CHECK_INT(t.set, 0);
  CHECK_INT(t.reg, 0xEDF0);
  c = cmd(3, 20);
  CHECK_INT(ved_writer_command(&w, &c, &why), -EBUSY); /* one at a time */
  answer(&w, 150, 0);
  CHECK_INT(t.ndone, 1);
  CHECK_INT(t.ticket, 2);
  CHECK_INT(t.status, 0);
  CHECK(strstr(t.msg, "not rewritten") != NULL);
  CHECK_INT(t.nset, 0);
  CHECK_DBL(t.value, 15.0);

  /* a new value: Get, Set (little-endian, 2 bytes), Get to verify */
  run(&w, 4, 30.0);
  answer(&w, 150, 0);
  CHECK_INT(t.nset, 1);
  CHECK_INT(t.vlen, 2);
  CHECK_INT(t.val[0] | t.val[1] << 8, 300);
  answer(&w, 300, 0); /* the Set reply */
  CHECK_INT(t.set, 0);
  answer(&w, 300, 0); /* the verifying Get */
  CHECK_INT(t.ndone, 2);
  CHECK_INT(t.status, 0);
  CHECK_STR(t.msg, "set to 30.0 A");

  /* 10 s later, deadline in 5 s: the spacing cannot be kept */
  t.now_ms += 10000;
  t.now_ns += 10000000000LL;
  run(&w, 5, 20.0);
  answer(&w, 300, 0);
  CHECK_INT(t.status, -EBUSY);
  CHECK(strstr(t.msg, "min_write_interval") != NULL);
  CHECK_INT(t.nset, 1);

  /* with room: waits the rest of the 30 s, then writes */
  c = cmd(6, 12.5);
  c.deadline_ns = t.now_ns + 60000000000LL;
  CHECK_INT(ved_writer_command(&w, &c, &why), 0);
  answer(&w, 300, 0);
  CHECK_INT(t.timers, 1);
  CHECK_INT(t.timer_ms, 20000);
  CHECK_INT(t.nset, 1);
  t.now_ms += 20000;
  t.now_ns += 20000000000LL;
  t.timer_cb(t.timer_arg);
  CHECK_INT(t.timers, 0);
  CHECK_INT(t.nset, 2);
  answer(&w, 125, 0);
  answer(&w, 125, 0);
  CHECK_INT(t.ticket, 6);
  CHECK_INT(t.status, 0);

  /* the device refuses and says what it uses */
  t.now_ms += 40000;
  t.now_ns += 40000000000LL;
  run(&w, 7, 1.0);
  answer(&w, 125, 0);
  answer(&w, 30, VED_FLAG_PARAM_ERROR);
  CHECK_INT(t.status, -EINVAL);
  CHECK(strstr(t.msg, "parameter error") != NULL);
  CHECK(strstr(t.msg, "it uses 3.0 A") != NULL);
  CHECK_DBL(t.value, 3.0);

  /* it takes the Set but reports another value */
  t.now_ms += 40000;
  t.now_ns += 40000000000LL;
  run(&w, 8, 40.0);
  answer(&w, 30, 0);
  answer(&w, 400, 0);
  answer(&w, 390, 0);
  CHECK_INT(t.status, -EIO);

  /* no answer */
  run(&w, 9, 40.0);
  ved_writer_reply(&w, t.tag, -ETIMEDOUT, NULL);
  CHECK_INT(t.status, -ETIMEDOUT);
  CHECK(strstr(t.msg, "no answer") != NULL);

  /* the port goes: what is in flight fails; a late reply is ignored */
  run(&w, 10, 40.0);
  ved_writer_cancel(&w, -ENOTCONN, "port lost");
  CHECK_INT(t.ticket, 10);
  CHECK_INT(t.status, -ENOTCONN);
  CHECK_INT(t.ndone, 8); /* tickets 2 and 4..10 */
  answer(&w, 390, 0);
  CHECK_INT(t.ndone, 8);

  /* the queue is full: refused at once, nothing in flight */
  t.fail_submit = 1;
  c = cmd(11, 40);
  CHECK_INT(ved_writer_command(&w, &c, &why), -ENOBUFS);
  t.fail_submit = 0;
  run(&w, 12, 39.0);
  CHECK_INT(t.set, 0);

  /* the app changes it: the new value is published once */
  {
    struct ved_hex_reg reg;
    uint8_t v2[2] = {0x64, 0x00};
    int before = t.nvalue;
    reg.id = 0xEDF0;
    reg.flags = 0;
    reg.value = v2;
    reg.vlen = 2;
    ved_writer_observe(&w, &reg);
    ved_writer_observe(&w, &reg);
    CHECK_INT(t.nvalue, before + 1);
    CHECK_DBL(t.value, 10.0);
  }
  VQTEST_END();
}
