/* BLE capture file (doc/design.md §7): '#' comments, then one advertisement per
 * line: <unix time s.frac> <AA:BB:CC:DD:EE:FF> <rssi or -> <hex of the
 * manufacturer data for 0x02E1, without the company id>. */
#ifndef VQ_BLE_CAPTURE_H
#define VQ_BLE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BLE_CAPTURE_MAX_DATA 64u

struct ble_capture_line {
  int64_t time_ns;
  uint8_t addr[6];
  int has_rssi;
  int rssi;
  size_t len;
  uint8_t data[BLE_CAPTURE_MAX_DATA];
};

/* Parse one line (with or without its newline).  Returns 0 for an
 * advertisement, 1 for a comment or blank line, -EINVAL for a bad line. */
int ble_capture_parse_line(const char *line, struct ble_capture_line *out);

/* Longest capture line kept (with its newline and NUL). */
#define BLE_CAPTURE_LINE_MAX 512u

/* Read the next line of a capture file into buf (size bytes, at least 2).
 * A line that does not fit is read to its end and reported as one line
 * with *too_long set, so the line numbers after it stay right.  1 for a
 * line, 0 at the end of the file. */
int ble_capture_read_line(FILE *f, char *buf, size_t size, int *too_long);

/* Format one line with its newline.  Returns the length, or -ENOSPC. */
int ble_capture_format_line(char *buf, size_t size, int64_t time_ns,
                            const uint8_t addr[6], int has_rssi, int rssi,
                            const uint8_t *data, size_t len);

#endif
