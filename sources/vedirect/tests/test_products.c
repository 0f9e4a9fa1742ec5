/* The compiled product table matches pid-table.csv row for row. */
#include <stdint.h>

#include "../vedirect_products.h"
#include "ved_test.h"

int main(void) {
  size_t len, n, rows = 0, i;
  unsigned char *csv = ved_test_read("pid-table.csv", &len);
  const struct ved_product *all = ved_product_all(&n);
  char *line, *save = NULL;
  csv[len] = '\0';
  for (i = 1; i < n; i++) CHECK(all[i - 1].pid < all[i].pid);
  line = strtok_r((char *)csv, "\n", &save); /* header */
  CHECK(line != NULL && strncmp(line, "pid,name,", 9) == 0);
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    unsigned pid;
    char name[128];
    char *comma;
    if (line[0] == '\0' || line[0] == '\r') continue;
    CHECK(sscanf(line, "0x%x,", &pid) == 1);
    comma = strchr(line, ',');
    CHECK(comma != NULL);
    if (comma == NULL) continue;
    /* names hold no comma or quote (the table's notes column may) */
    snprintf(name, sizeof name, "%.*s", (int)strcspn(comma + 1, ","),
             comma + 1);
    CHECK_STR(ved_product_name(pid), name);
    rows++;
  }
  CHECK_INT(rows, 177);
  CHECK_INT(n, 177);
  CHECK_STR(ved_product_name(0xA389), "SmartShunt 500A/50mV");
  CHECK_STR(ved_product_name(0xA332), "Blue Smart IP22 Charger 24|8");
  CHECK_STR(ved_product_name(0x0203), "BMV-700");
  CHECK(ved_product_name(0xFFFF) == NULL);
  free(csv);
  VQTEST_END();
}
