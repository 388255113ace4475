#include "config.h"
#include "report/watchview.h"
#include "lib/escape.h"
#include "lib/util.h"

#include <curses.h>
#include <math.h>

struct watchview {
        SCREEN *scr;
        bool color;
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
        for (size_t i = 0; i < ns; i++) {
                enum severity s;
                if (severity_from_name(jstr(json_object_array_get_idx(statuses, i), "severity"), &s) == 0)
                        counts[s]++;
        }
        line(y++, A_NORMAL, "%zu crit, %zu warn, %zu unknown, %zu info, %zu ok   (q quits)", counts[SEV_CRIT], counts[SEV_WARN],
             counts[SEV_UNKNOWN], counts[SEV_INFO], counts[SEV_OK]);
        /* Statuses that are not ok first, all of them if they fit; ok ones after,
         * then values, each while room remains. */
        size_t shown = 0;
        for (size_t i = 0; i < ns && y < body_end; i++) {
                json_object *o = json_object_array_get_idx(statuses, i);
                enum severity s = SEV_OK;
                (void)severity_from_name(jstr(o, "severity"), &s);
                if ((s == SEV_OK || s == SEV_SKIPPED) && y >= body_end - 1 - (nv ? 4 : 0))
                        break; /* keep a few lines for the values */
                if (y == body_end - 1 && i + 1 < ns) {
                        line(y++, A_DIM, "  ... %zu more statuses", ns - i);
                        shown = ns;
                        break;
                }
                char sev[12];
                upper(sev, jstr(o, "severity"), sizeof(sev));
                const char *subj = jstr(o, "subject"), *sum = jstr(o, "summary");
                if (subj && sum && startswith(sum, subj))
                        subj = NULL; /* the summary starts with it ("pid 12 x: ...") */
                line(y++, sev_attr(v, s), "%-7s %s%s%s%s: %s", sev, jstr(o, "id") ? jstr(o, "id") : "?", subj ? " [" : "",
                     subj ? subj : "", subj ? "]" : "", jstr(o, "summary") ? jstr(o, "summary") : "");
                shown++;
        }
        if (shown < ns && y < body_end)
                line(y++, A_DIM, "  ... %zu more ok statuses", ns - shown);
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
        (void)v;
        int ret = 0, ch;
        while ((ch = getch()) != ERR) {
                if (ch == 'q' || ch == 'Q')
                        return 'q';
                if (ch == KEY_RESIZE || ch == 12 /* ^L */)
                        ret = 'r';
        }
        return ret;
}

void wv_close(struct watchview *v)
{
        if (!v)
                return;
        endwin();
        delscreen(v->scr);
        free(v);
}
