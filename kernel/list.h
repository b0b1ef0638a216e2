// Intrusive circular doubly-linked lists (run queues, wait queues, the
// thread list). A list head is a struct list whose next/prev point at
// itself when empty; elements embed a struct list and are recovered with
// list_entry. No locking here: each list says which lock guards it.
#pragma once

#include "kernel/types.h"

struct list {
	struct list *next, *prev;
};

#define LIST_INIT(name) { &(name), &(name) }
#define list_entry(ptr, type, member) ((type *)((char *)(ptr) - __builtin_offsetof(type, member)))

static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline bool list_empty(const struct list *l) { return l->next == l; }

static inline void list_insert_between(struct list *e, struct list *prev, struct list *next)
{
	e->prev = prev;
	e->next = next;
	prev->next = e;
	next->prev = e;
}

static inline void list_push_back(struct list *head, struct list *e) { list_insert_between(e, head->prev, head); }
static inline void list_push_front(struct list *head, struct list *e) { list_insert_between(e, head, head->next); }

static inline void list_remove(struct list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = e;
}

#define list_for_each(pos, head) for (struct list *pos = (head)->next; pos != (head); pos = pos->next)
