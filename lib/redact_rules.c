/* What redaction treats as secret: the words of secret names, and the tools whose
 * short flags carry secrets (one table line per tool). The scanners are lib/redact.c. */
#include "config.h"
#include "lib/redact_private.h"
#include "lib/util.h"

#include <ctype.h>
#include <strings.h>

/* ---------------- names that say "secret" ---------------- */

/* Substrings of a word that always mean a secret ("dbpassword", "authtoken"). */
static const char *const strong_words[] = {
        "password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "accesskey",
        "privatekey", "secretkey", "authkey", "signingkey", "masterkey", "cookie", "bearer", NULL,
};
/* Whole words that mean a secret ("db-pass", "MYSQL_PWD", "X-Amz-Signature"). */
static const char *const weak_words[] = {
        "pass", "pw", "pwd", "key", "auth", "authorization", "sig", "signature", "creds", "cred", NULL,
};
/* A last word that makes the name about a secret, not the secret ("--password-file",
 * "--pass-through", "auth_type", "token_url", "max_password_length"). */
static const char *const benign_last[] = {
        "file", "files", "path", "dir", "directory", "type", "method", "mode", "length", "len", "size",
        "count", "min", "max", "policy", "through", "url", "uri", "endpoint", "host", "port", "timeout",
        "ttl", "expiry", "expires", "lifetime", "header", "algorithm", "alg", "format", "user", "username",
        "name", "required", "enabled", "disabled", "prompt", "command", "cmd", "helper", "store", "version",
        NULL,
};

/* Does a key, variable or option name name a secret? Words are split at punctuation
 * and camelCase; PWD and OLDPWD are the shell's working directories. */
bool secret_name(const char *name, size_t n)
{
        if (n < 2)
                return false; /* the shortest secret word is "pw" */
        while (n && (*name == '-' || *name == '"' || *name == '\'')) {
                name++;
                n--;
        }
        if (n == 0)
                return false;
        if ((n == 3 && memcmp(name, "PWD", 3) == 0) || (n == 6 && memcmp(name, "OLDPWD", 6) == 0))
                return false;
        bool secret = false;
        char word[64], last[64] = "";
        size_t wl = 0;
        for (size_t i = 0; i <= n; i++) {
                unsigned char c = i < n ? (unsigned char)name[i] : 0;
                bool boundary = !isalnum(c) || (i > 0 && isupper(c) && islower((unsigned char)name[i - 1]));
                if (boundary && wl) {
                        word[wl] = 0;
                        for (const char *const *s = strong_words; *s && !secret; s++)
                                secret = strstr(word, *s) != NULL;
                        secret = secret || strv_contains(weak_words, word);
                        memcpy(last, word, wl + 1);
                        wl = 0;
                }
                if (isalnum(c) && wl < sizeof(word) - 1)
                        word[wl++] = (char)tolower(c);
        }
        return secret && !strv_contains(benign_last, last);
}

/* A flag that is on or off, never followed by a value ("--no-auth", "--use-token"). */
bool boolean_flag(const char *name, size_t n)
{
        static const char *const pre[] = {"no-", "no_", "with-", "without-", "use-", "enable-", "disable-",
                                          "skip-", "require-", "allow-", "ignore-", NULL};
        while (n && *name == '-') {
                name++;
                n--;
        }
        for (const char *const *p = pre; *p; p++)
                if (n > strlen(*p) && strncasecmp(name, *p, strlen(*p)) == 0)
                        return true;
        return false;
}

/* ---------------- tools whose short flags carry secrets ---------------- */

static const char *const mysql_names[] = {"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlshow", "mysqlcheck",
                                          "mysqlpump", "mysqlbinlog", "mysqlslap", "mariadb", "mariadb-dump",
                                          "mariadb-admin", "mariadb-import", "mariadb-show", "mariadb-check",
                                          "mariadb-binlog", "mariadb-slap", NULL};
static const char *const sshpass_names[] = {"sshpass", NULL};
static const char *const redis_names[] = {"redis-cli", "valkey-cli", "keydb-cli", NULL};
static const char *const mosquitto_names[] = {"mosquitto_pub", "mosquitto_sub", "mosquitto_rr", "sqlcmd", "bcp", NULL};
static const char *const mongo_names[] = {"mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport",
                                          "mongostat", "mongotop", "mongofiles", "rabbitmqadmin", NULL};
static const char *const ldap_names[] = {"ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldapwhoami",
                                         "ldapcompare", "ldapmodrdn", "ldapexop", "ldappasswd", NULL};
static const char *const curl_names[] = {"curl", NULL};
static const char *const smb_names[] = {"smbclient", "rpcclient", "smbcacls", "smbget", "net", NULL};
static const char *const lftp_names[] = {"lftp", NULL};

static const struct tool tools[] = {
        {mysql_names, {{'p', NULL, F_ATTACHED, P_ALL}}}, /* "-p db" prompts; db is a database */
        {sshpass_names, {{'p', NULL, F_BOTH, P_ALL}}},
        {redis_names, {{'a', NULL, F_BOTH, P_ALL}}},
        {mosquitto_names, {{'P', NULL, F_BOTH, P_ALL}}},
        {mongo_names, {{'p', NULL, F_BOTH, P_ALL}}},
        {ldap_names, {{'w', NULL, F_BOTH, P_ALL}, {'s', NULL, F_BOTH, P_ALL}, {'a', NULL, F_BOTH, P_ALL}}},
        {curl_names, {{'u', "user", F_BOTH, P_COLON}, {'U', "proxy-user", F_BOTH, P_COLON}, {'E', "cert", F_BOTH, P_COLON}}},
        {smb_names, {{'U', "user", F_BOTH, P_PERCENT}}},
        {lftp_names, {{'u', "user", F_BOTH, P_COMMA}}},
};

const struct tool *tool_named(const char *w, size_t n)
{
        const char *base = w;
        for (size_t i = 0; i < n; i++)
                if (w[i] == '/')
                        base = w + i + 1;
        size_t bl = n - (size_t)(base - w);
        /* Called for every word redaction looks at: every name starts with one of these
         * letters, and its first byte is compared before its length is taken. */
        if (bl < 3 || bl > 32 || !strchr("bcklmnrsv", base[0]))
                return NULL;
        for (size_t t = 0; t < ARRAY_SIZE(tools); t++)
                for (const char *const *nm = tools[t].names; *nm; nm++)
                        if ((*nm)[0] == base[0] && strnlen(*nm, bl + 1) == bl && memcmp(*nm, base, bl) == 0)
                                return &tools[t];
        return NULL;
}
