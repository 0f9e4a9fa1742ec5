/* The keystream equals OpenSSL's own AES-128-CTR (EVP_aes_128_ctr, counter
 * block nonce_lo, nonce_hi, 0...) for every length up to the buffer, many
 * nonces, and repeated use of one context. */
#include <openssl/evp.h>

#include "testutil.h"

int main(void) {
  uint8_t key[16], in[BLE_ADV_MAX_PAYLOAD], a[BLE_ADV_MAX_PAYLOAD], b[BLE_ADV_MAX_PAYLOAD];
  struct ble_adv_crypto *c;
  unsigned nonce, i;
  size_t n;
  for (i = 0; i < 16; i++) key[i] = (uint8_t)(i * 37 + 5);
  for (i = 0; i < sizeof in; i++) in[i] = (uint8_t)(i * 11);
  c = ble_adv_crypto_new(key);
  CHECK_MSG(c != NULL, "context");
  if (c == NULL) return 1;
  for (nonce = 0; nonce < 65536; nonce += 257) {
    for (n = 0; n <= BLE_ADV_MAX_PAYLOAD; n++) {
      uint8_t iv[16] = {(uint8_t)nonce, (uint8_t)(nonce >> 8)};
      EVP_CIPHER_CTX *ref = EVP_CIPHER_CTX_new();
      int outl = 0;
      CHECK_MSG(ref != NULL && EVP_EncryptInit_ex(ref, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
                (n == 0 || EVP_EncryptUpdate(ref, b, &outl, in, (int)n) == 1),
            "reference");
      EVP_CIPHER_CTX_free(ref);
      CHECK_MSG(ble_adv_crypto_ctr(c, (uint16_t)nonce, in, n, a) == 0, "ctr");
      CHECK_MSG(memcmp(a, b, n) == 0, "nonce %u length %zu differs from EVP_aes_128_ctr", nonce, n);
    }
  }
  CHECK_MSG(ble_adv_crypto_ctr(c, 1, in, BLE_ADV_MAX_PAYLOAD + 1, a) == -1, "too long refused");
  ble_adv_crypto_free(c);
  VQTEST_END();
}
