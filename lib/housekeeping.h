/* evodiag must never disturb the RT cores it diagnoses: it moves itself to the
 * housekeeping CPUs (online minus isolated and nohz_full) at low priority. */
#pragma once
/* Always reads the live /sys (it is about where evodiag itself runs). Returns a
 * newly allocated description of what was done, for -v. */
char *housekeeping_enter(void);
