/* evodiag watch on a terminal: one screen redrawn in place with ncurses — the
 * problems worst first (the ok checks folded into one count per collector), the
 * latest values, the recent events at the bottom. Up/Down select a problem, Enter
 * opens its detail pane (expected, found, remedy, what the check is), '?' the key
 * help. Resizes (KEY_RESIZE, from ncurses' SIGWINCH handling) redraw; 'q' quits. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include "lib/finding.h"

struct watchview;

/* Takes over the terminal on stdin/stdout; NULL (with *err) if it cannot. */
struct watchview *wv_open(bool color, char **err);
/* title: one line about the run; statuses (worst first) and values as the
 * sampler JSON arrays; events: the recent event lines, oldest first. */
void wv_draw(struct watchview *v, const char *title, json_object *statuses, json_object *values, char *const *events,
             const enum severity *evsev, size_t nev);
/* Handles pending keys without waiting: 'q' when the user asked to quit, 'r'
 * when the screen needs redrawing (resize, ^L, a key that moved or opened
 * something), else 0. */
int wv_input(struct watchview *v);
/* Restores the terminal. */
void wv_close(struct watchview *v);
