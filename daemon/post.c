/* The post queue: vq_host.post, the one call plugins may make from any
 * thread, hands callbacks to the loop through a mutex and a uv_async. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon.h"

struct vq_post {
  struct vq_ctx *ctx;
  vq_callback cb;
  void *arg;
  struct vq_post *next;
};

/* Drop what `ctx` posted and refuse its later posts (plugin.h: nothing
 * posted runs once the stop has completed). */
void vq_daemon_posts_close(struct vq_daemon *d, struct vq_ctx *ctx) {
  struct vq_post **p, *post;
  uv_mutex_lock(&d->post_lock);
  ctx->posts_closed = 1;
  for (p = &d->posts; (post = *p) != NULL;) {
    if (post->ctx == ctx) {
      *p = post->next;
      free(post);
    } else {
      p = &post->next;
    }
  }
  uv_mutex_unlock(&d->post_lock);
}

void vq_daemon_on_post(uv_async_t *a) {
  struct vq_daemon *d = a->data;
  struct vq_post *list, *reversed = NULL;
  uv_mutex_lock(&d->post_lock);
  list = d->posts;
  d->posts = NULL;
  uv_mutex_unlock(&d->post_lock);
  while (list != NULL) { /* posts were pushed at the front: restore order */
    struct vq_post *next = list->next;
    list->next = reversed;
    reversed = list;
    list = next;
  }
  while (reversed != NULL) {
    struct vq_post *next = reversed->next;
    /* An earlier callback may have completed this instance's stop. */
    if (!reversed->ctx->posts_closed) reversed->cb(reversed->arg);
    free(reversed);
    reversed = next;
  }
}

int vq_daemon_post(struct vq_daemon *d, struct vq_ctx *ctx, vq_callback cb,
                   void *arg) {
  struct vq_post *post = malloc(sizeof *post);
  if (post == NULL) return -ENOMEM;
  post->ctx = ctx;
  post->cb = cb;
  post->arg = arg;
  uv_mutex_lock(&d->post_lock);
  if (ctx->posts_closed) {
    uv_mutex_unlock(&d->post_lock);
    free(post);
    return -ESHUTDOWN;
  }
  post->next = d->posts;
  d->posts = post;
  uv_mutex_unlock(&d->post_lock);
  return uv_async_send(&d->post_async);
}

void vq_daemon_posts_free(struct vq_daemon *d) {
  struct vq_post *post;
  while ((post = d->posts) != NULL) {
    d->posts = post->next;
    free(post);
  }
}
