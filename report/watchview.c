#include "config.h"
#include "report/watchview.h"
#include "collectors/collector.h"
#include "collectors/sampler.h" /* watch_time */
#include "lib/escape.h"
#include "lib/util.h"

#include <curses.h>
#include <math.h>

struct watchview {
        SCREEN *scr;
        bool color;
        int sel;        /* the selected problem (index into the problems, worst first) */
        char *sel_key;  /* its "id [subject]", so the selection follows it when the list reorders */
        bool moved;     /* the keys moved the selection since the last draw */
        bool detail;    /* the detail pane of the selected problem is open */
        bool help;      /* the key help is open */
};

enum { PAIR_CRIT = 1, PAIR_WARN, PAIR_UNKNOWN, PAIR_OK, PAIR_INFO };

struct watchview *wv_open(bool color, char **err)
{
        struct watchview *v = xcalloc(1, sizeof(*v));
        v->scr = newterm(NULL, stdout, stdin);
        if (!v->scr) {
                *err = xstrdup("cannot initialise the terminal (TERM not set or unknown?)");
                free(v);
                return NULL;
        }
        set_term(v->scr);
        cbreak(); /* keys one by one; ^C still raises SIGINT, which the caller handles */
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        (void)curs_set(0);
        v->color = color && has_colors();
        if (v->color) {
                start_color();
                use_default_colors();
                init_pair(PAIR_CRIT, COLOR_RED, -1);
                init_pair(PAIR_WARN, COLOR_YELLOW, -1);
                init_pair(PAIR_UNKNOWN, COLOR_MAGENTA, -1);
                init_pair(PAIR_OK, COLOR_GREEN, -1);
                init_pair(PAIR_INFO, COLOR_CYAN, -1);
        }
        return v;
}

static attr_t sev_attr(const struct watchview *v, enum severity s)
{
        if (!v->color)
                return s == SEV_CRIT ? A_BOLD : A_NORMAL;
        switch (s) {
        case SEV_CRIT: return COLOR_PAIR(PAIR_CRIT) | A_BOLD;
        case SEV_WARN: return COLOR_PAIR(PAIR_WARN) | A_BOLD;
        case SEV_UNKNOWN: return COLOR_PAIR(PAIR_UNKNOWN);
        case SEV_OK: return COLOR_PAIR(PAIR_OK);
        case SEV_INFO: return COLOR_PAIR(PAIR_INFO);
        default: return A_NORMAL;
        }
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *x;
        return json_object_object_get_ex(o, k, &x) && x && json_object_is_type(x, json_type_string) ? json_object_get_string(x)
                                                                                                      : NULL;
}

/* One line at row y, cut at the screen's width (never wrapping into the next).
 * The values in it come from the host: control characters are shown escaped
 * (a newline would break the layout, an escape sequence would reach the terminal). */
static void line(int y, attr_t a, const char *fmt, ...) PRINTF(3, 4);
static void line(int y, attr_t a, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *raw = xvasprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *s = esc_text_dup(raw);
        move(y, 0);
        clrtoeol();
        attron(a);
        mvaddnstr(y, 0, s, COLS > 0 ? COLS : 0);
        attroff(a);
}

static void upper(char *dst, const char *s, size_t n)
{
        size_t i = 0;
        for (; s && s[i] && i < n - 1; i++)
                dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
        dst[i] = 0;
}

static void value_text(char *buf, size_t n, double v, const char *unit)
{
        char num[48];
        if (unit && streq(unit, "bytes") && v >= 0 && v < 1e19)
                (void)fmt_bytes((uint64_t)v, num);
        else if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
                snprintf(num, sizeof(num), "%.0f", v);
        else
                snprintf(num, sizeof(num), "%.2f", v);
        snprintf(buf, n, "%s%s%s", num, unit && *unit && !streq(unit, "bytes") ? " " : "",
                 unit && !streq(unit, "bytes") ? unit : "");
}

static bool is_problem(enum severity s)
{
        return s != SEV_OK && s != SEV_SKIPPED;
}

static void status_label(char *buf, size_t n, json_object *o)
{
        const char *subj = jstr(o, "subject"), *sum = jstr(o, "summary");
        if (subj && sum && startswith(sum, subj))
                subj = NULL; /* the summary starts with it ("pid 12 x: ...") */
        snprintf(buf, n, "%s%s%s%s", jstr(o, "id") ? jstr(o, "id") : "?", subj ? " [" : "", subj ? subj : "", subj ? "]" : "");
}

/* Text wrapped at the screen's width from row *y on, at most up to row end; a
 * prefix ("expected: ") starts the first line. */
static void wrapped(int *y, int end, attr_t a, const char *prefix, const char *text)
{
        _cleanup_free_ char *raw = xasprintf("%s%s", prefix, text ? text : "");
        _cleanup_free_ char *s = esc_text_dup(raw);
        size_t w = COLS > 10 ? (size_t)COLS : 10, len = strlen(s), at = 0;
        while (at < len && *y < end) {
                size_t n = len - at <= w ? len - at : w;
                if (at + n < len) { /* break at the last space that fits */
                        size_t k = n;
                        while (k > w / 2 && s[at + k] != ' ')
                                k--;
                        if (s[at + k] == ' ')
                                n = k;
                }
                move(*y, 0);
                clrtoeol();
                attron(a);
                mvaddnstr(*y, 0, s + at, (int)n);
                attroff(a);
                (*y)++;
                at += n;
                while (at < len && s[at] == ' ')
                        at++;
        }
}

/* The detail pane of the selected problem: what it is, expected/found/remedy where
 * the check said them, else what the check is about (evodiag explain ID). */
static void detail(const struct watchview *v, json_object *o, int y, int end)
{
        enum severity s = SEV_OK;
        (void)severity_from_name(jstr(o, "severity"), &s);
        char sev[12], label[512], since[40] = "";
        upper(sev, jstr(o, "severity"), sizeof(sev));
        status_label(label, sizeof(label), o);
        json_object *x;
        if (json_object_object_get_ex(o, "since_ms", &x))
                watch_time((uint64_t)json_object_get_int64(x), false, since);
        line(y++, sev_attr(v, s) | A_BOLD, "%s %s", sev, label);
        if (*since && y < end)
                line(y++, A_DIM, "since %s   (Enter or Esc: back to the list)", since);
        wrapped(&y, end, A_NORMAL, "", jstr(o, "summary"));
        if (jstr(o, "expected"))
                wrapped(&y, end, A_NORMAL, "expected: ", jstr(o, "expected"));
        if (jstr(o, "found"))
                wrapped(&y, end, A_NORMAL, "found:    ", jstr(o, "found"));
        if (jstr(o, "remedy"))
                wrapped(&y, end, A_BOLD, "remedy:   ", jstr(o, "remedy"));
        const struct check_info *ci = jstr(o, "id") ? check_find(jstr(o, "id"), NULL) : NULL;
        if (ci && ci->explain && y < end - 1) {
                line(y++, A_DIM, "-- about %s (evodiag explain %s)", ci->id, ci->id);
                /* Its paragraphs rewrapped to the screen (the text is wrapped for 80 columns). */
                _cleanup_free_ char *ex = xstrdup(ci->explain);
                for (char *p = ex; *p; p++)
                        if (*p == '\n' && p[1] != '\n' && (p == ex || p[-1] != '\n'))
                                *p = ' ';
                for (char *l = strtok(ex, "\n"); l && y < end; l = strtok(NULL, "\n"))
                        wrapped(&y, end, A_NORMAL, "", l);
        }
}

static void help(int y, int end)
{
        static const char *const keys[] = {
                "-- keys",
                "  Up, Down (k, j)   select a problem",
                "  Enter             details: expected, found, remedy, what the check is",
                "  Esc, Enter        back to the list",
                "  ?                 this help (any key closes it)",
                "  q, Ctrl-C         quit (the recording is kept)",
                "",
                "Problems (crit, warn, unknown, info) come first, worst first; checks that are",
                "ok are one count per collector. Events are severity changes, newest at the",
                "bottom. 'evodiag list' says which checks watch samples every interval; the",
                "others come from a full check in the background (--check-every).",
        };
        for (size_t i = 0; i < sizeof(keys) / sizeof(*keys) && y < end; i++)
                line(y++, i ? A_NORMAL : A_BOLD, "%s", keys[i]);
}

void wv_draw(struct watchview *v, const char *title, json_object *statuses, json_object *values, char *const *events,
             const enum severity *evsev, size_t nev)
{
        erase();
        int rows = LINES, y = 0;
        if (rows < 4) {
                line(0, A_REVERSE, "%s", title);
                refresh();
                return;
        }
        line(y++, A_REVERSE, "%s", title);
        /* The bottom quarter (at least 3 lines) belongs to the recent events. */
        int evrows = rows / 4 > 3 ? rows / 4 : 3;
        if ((size_t)evrows - 1 > nev)
                evrows = (int)nev + 1;
        int body_end = rows - evrows; /* rows [1, body_end) for statuses and values */

        size_t ns = statuses ? json_object_array_length(statuses) : 0, nv = values ? json_object_array_length(values) : 0;
        size_t counts[_SEV_MAX] = {0};
        json_object **prob = xcalloc(ns + 1, sizeof(*prob));
        size_t np = 0;
        struct strbuf okby = {0};
        for (size_t i = 0; i < ns; i++) {
                json_object *o = json_object_array_get_idx(statuses, i);
                enum severity s;
                if (severity_from_name(jstr(o, "severity"), &s) < 0)
                        continue;
                counts[s]++;
                if (is_problem(s))
                        prob[np++] = o;
        }
        /* ok ones folded: one count per collector ("fds 3, hugepages 2") */
        for (size_t i = 0; i < ns; i++) {
                json_object *o = json_object_array_get_idx(statuses, i);
                enum severity s;
                const char *id = jstr(o, "id");
                if (!id || severity_from_name(jstr(o, "severity"), &s) < 0 || is_problem(s))
                        continue;
                size_t cl = strcspn(id, "."), n = 0;
                bool first = true;
                for (size_t j = 0; j < ns; j++) {
                        json_object *p = json_object_array_get_idx(statuses, j);
                        const char *pid = jstr(p, "id");
                        enum severity ps;
                        if (!pid || severity_from_name(jstr(p, "severity"), &ps) < 0 || is_problem(ps) || strncmp(pid, id, cl) ||
                            pid[cl] != '.')
                                continue;
                        if (j < i)
                                first = false;
                        n++;
                }
                if (first)
                        sb_printf(&okby, "%s%.*s %zu", okby.len ? ", " : "", (int)cl, id, n);
        }
        /* The selection follows its problem when the list reorders. */
        if (v->moved || !v->sel_key) {
                v->sel = v->sel < 0 ? 0 : v->sel >= (int)np ? (int)np - 1 : v->sel;
        } else {
                int found = -1;
                for (size_t i = 0; i < np && found < 0; i++) {
                        char k[512];
                        status_label(k, sizeof(k), prob[i]);
                        if (streq(k, v->sel_key))
                                found = (int)i;
                }
                v->sel = found >= 0 ? found : v->sel >= (int)np ? (int)np - 1 : v->sel;
        }
        v->moved = false;
        free(v->sel_key);
        v->sel_key = NULL;
        if (np && v->sel >= 0) {
                char k[512];
                status_label(k, sizeof(k), prob[v->sel]);
                v->sel_key = xstrdup(k);
        }
        if (np == 0)
                v->detail = false;

        line(y++, A_NORMAL, "%zu crit, %zu warn, %zu unknown, %zu info, %zu ok   %s", counts[SEV_CRIT], counts[SEV_WARN],
             counts[SEV_UNKNOWN], counts[SEV_INFO], counts[SEV_OK] + counts[SEV_SKIPPED],
             np ? "Up/Down Enter ? q" : "? help, q quits");
        if (v->help) {
                help(y, body_end);
        } else if (v->detail) {
                detail(v, prob[v->sel], y, body_end);
        } else {
                /* Problems, worst first, scrolled to keep the selected one in view; one
                 * line for the ok ones; values while room remains. */
                int room = body_end - y - 1 - (nv ? 3 : 0);
                if (room < 1)
                        room = 1;
                int top = v->sel >= room ? v->sel - room + 1 : 0;
                if ((size_t)(top + room) < np && room > 1)
                        room--; /* a line for "... more" */
                for (int i = top; i < (int)np && i < top + room && y < body_end; i++) {
                        json_object *o = prob[i];
                        enum severity s = SEV_OK;
                        (void)severity_from_name(jstr(o, "severity"), &s);
                        char sev[12], label[512];
                        upper(sev, jstr(o, "severity"), sizeof(sev));
                        status_label(label, sizeof(label), o);
                        line(y++, sev_attr(v, s) | (i == v->sel ? A_REVERSE : 0), "%-7s %s: %s", sev, label,
                             jstr(o, "summary") ? jstr(o, "summary") : "");
                }
                if ((size_t)(top + room) < np && y < body_end)
                        line(y++, A_DIM, "  ... %zu more problems (Down to see them)", np - (size_t)(top + room));
                if (y < body_end)
                        line(y++, sev_attr(v, SEV_OK), "OK      %zu checks ok%s%s%s", counts[SEV_OK] + counts[SEV_SKIPPED],
                             okby.len ? " (" : "", okby.len ? okby.s : "", okby.len ? ")" : "");
                if (nv && y < body_end - 1) {
                        line(y++, A_BOLD, "-- latest values");
                        int colw = COLS >= 120 ? COLS / 2 : COLS;
                        int per_row = COLS >= 120 ? 2 : 1, col = 0;
                        for (size_t i = 0; i < nv && y < body_end; i++) {
                                json_object *o = json_object_array_get_idx(values, i), *x;
                                char val[64], raw[256];
                                value_text(val, sizeof(val), json_object_object_get_ex(o, "value", &x) ? json_object_get_double(x) : 0,
                                           jstr(o, "unit"));
                                const char *subj = jstr(o, "subject");
                                snprintf(raw, sizeof(raw), "%s%s%s%s", jstr(o, "key") ? jstr(o, "key") : "?", subj ? " [" : "",
                                         subj ? subj : "", subj ? "]" : "");
                                _cleanup_free_ char *cell = esc_text_dup(raw);
                                int w = colw - 19 > 8 ? colw - 19 : 8; /* a space between the columns */
                                if (col == 0) {
                                        move(y, 0);
                                        clrtoeol();
                                }
                                mvprintw(y, col * colw, "%-*.*s %16s", w, w, cell, val);
                                if (++col == per_row || i + 1 == nv) {
                                        col = 0;
                                        y++;
                                }
                        }
                }
        }
        sb_free(&okby);
        free(prob);
        /* Recent events, newest at the bottom. */
        y = body_end;
        line(y++, A_BOLD, "-- recent events (%zu)", nev);
        size_t room = (size_t)(rows - y);
        size_t first = nev > room ? nev - room : 0;
        for (size_t i = first; i < nev && y < rows; i++)
                line(y++, sev_attr(v, evsev[i]), "%s", events[i]);
        refresh();
}

int wv_input(struct watchview *v)
{
        int ret = 0, ch;
        while ((ch = getch()) != ERR) {
                if (v->help) { /* any key closes the help */
                        v->help = ch == 'q' || ch == 'Q' ? v->help : false;
                        if (ch != 'q' && ch != 'Q') {
                                ret = 'r';
                                continue;
                        }
                }
                switch (ch) {
                case 'q':
                case 'Q':
                        return 'q';
                case KEY_UP:
                case 'k':
                        v->sel--;
                        v->moved = true;
                        ret = 'r';
                        break;
                case KEY_DOWN:
                case 'j':
                        v->sel++;
                        v->moved = true;
                        ret = 'r';
                        break;
                case '\r':
                case '\n':
                case KEY_ENTER:
                        v->detail = !v->detail;
                        ret = 'r';
                        break;
                case 27: /* Esc */
                case KEY_BACKSPACE:
                case KEY_LEFT:
                        v->detail = false;
                        ret = 'r';
                        break;
                case '?':
                        v->help = true;
                        ret = 'r';
                        break;
                case KEY_RESIZE:
                case 12: /* ^L */
                        ret = 'r';
                        break;
                }
        }
        return ret;
}

void wv_close(struct watchview *v)
{
        if (!v)
                return;
        endwin();
        delscreen(v->scr);
        free(v->sel_key);
        free(v);
}
