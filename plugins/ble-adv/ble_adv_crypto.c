/* AES-128-CTR of the advertisement payload (§1.4) through OpenSSL EVP.
 * One context per key, created once: per advertisement only the counter
 * block is set, so nothing is allocated and the key schedule is reused. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ble_adv.h"

struct ble_adv_crypto {
  EVP_CIPHER_CTX *ctx;
};

struct ble_adv_crypto *ble_adv_crypto_new(const uint8_t key[16]) {
  struct ble_adv_crypto *c = calloc(1, sizeof *c);
  static const uint8_t zero_iv[16];
  if (c == NULL) return NULL;
  c->ctx = EVP_CIPHER_CTX_new();
  if (c->ctx == NULL ||
      EVP_EncryptInit_ex(c->ctx, EVP_aes_128_ctr(), NULL, key, zero_iv) != 1) {
    ble_adv_crypto_free(c);
    return NULL;
  }
  return c;
}

void ble_adv_crypto_free(struct ble_adv_crypto *c) {
  if (c == NULL) return;
  EVP_CIPHER_CTX_free(c->ctx);
  free(c);
}

int ble_adv_crypto_ctr(struct ble_adv_crypto *c, uint16_t nonce,
                       const uint8_t *in, size_t n, uint8_t *out) {
  /* Counter block: the nonce bytes in the order received, then zeros.
   * OpenSSL increments the block big-endian, the PDF's "MSB counter", for
   * the (today hypothetical) second block. */
  uint8_t iv[16] = {0};
  int outl = 0;
  if (n > BLE_ADV_MAX_PAYLOAD) return -1;
  iv[0] = (uint8_t)(nonce & 0xff);
  iv[1] = (uint8_t)(nonce >> 8);
  /* Re-initialising with only an IV keeps the cipher and key schedule and
   * resets the keystream position. */
  if (EVP_EncryptInit_ex(c->ctx, NULL, NULL, NULL, iv) != 1) return -1;
  if (n == 0) return 0;
  if (EVP_EncryptUpdate(c->ctx, out, &outl, in, (int)n) != 1 ||
      (size_t)outl != n)
    return -1;
  return 0;
}
