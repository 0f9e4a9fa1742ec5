/* Interned strings: one copy per distinct text, kept for the life of the
 * process, so items can point at source ids that outlive their instance. */
#ifndef VQ_INTERN_H
#define VQ_INTERN_H

/* NULL only when out of memory. */
const char *vq_intern(const char *s);
/* Free everything (at exit, for leak checkers). */
void vq_intern_free_all(void);

#endif
