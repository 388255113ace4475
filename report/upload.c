#include "config.h"
#include "report/upload.h"
#include "lib/escape.h"
#include "lib/redact.h"
#include "lib/trust.h"
#include "lib/util.h"

#include "lib/curl_api.h"
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <strings.h>
#include <sys/stat.h>

#define ATTEMPTS 3

int upload_check_url(const char *url)
{
        return startswith(url, "https://") || startswith(url, "http://") ||
                               (startswith(url, "s3://") && url[5] && url[5] != '/')
                       ? 0
                       : -EINVAL;
}

static const char *setting(const struct config *cfg, const char *key, const char *env)
{
        const struct config_entry *e = config_get(cfg, "upload", key);
        if (e)
                return e->value;
        return env ? getenv(env) : NULL;
}

/* Host and userinfo of a URL, split by libcurl's own URL parser. */
static int url_parts(const struct curl_api *cu, const char *url, char **host, bool *userinfo)
{
        *host = NULL;
        *userinfo = false;
        CURLU *u = cu->url();
        if (!u)
                return -ENOMEM;
        int r = -EINVAL;
        char *h = NULL, *user = NULL, *pw = NULL;
        if (cu->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK && cu->url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK) {
                *host = xstrdup(h);
                *userinfo = cu->url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
                            cu->url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK;
                r = 0;
        }
        cu->free(h);
        cu->free(user);
        cu->free(pw);
        cu->url_cleanup(u);
        return r;
}

/* Does the .netrc libcurl would read have credentials for host? Read as words only: a
 * "default" entry or "machine <host>" counts (anything in doubt counts: that refuses). */
static bool netrc_has(const char *host)
{
        const char *home = getenv("HOME");
        struct passwd *pw = (!home || !*home) ? getpwuid(geteuid()) : NULL;
        if ((!home || !*home) && pw)
                home = pw->pw_dir;
        if (!home || !*home)
                return false;
        _cleanup_free_ char *path = xasprintf("%s/.netrc", home);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return false;
        char w[1024];
        bool machine = false;
        size_t words = 0;
        while (fscanf(f, "%1023s", w) == 1 && words++ < 1000000) {
                char *t = w;
                size_t n = strlen(t);
                if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
                        t[n - 1] = 0, t++;
                if (machine && !strcasecmp(t, host))
                        return true;
                machine = streq(t, "machine");
                if (streq(t, "default"))
                        return true;
        }
        return false;
}

struct plain {
        bool http;       /* plain http:// (the URL, or the s3_endpoint) */
        bool loopback;   /* to this host */
        char *host;
        const char *creds; /* what credentials would go: NULL = none */
};

static void plain_free(struct plain *p) { free(p->host); }

/* What an upload to url would send in clear text, and to where. */
static int plain_of(const struct curl_api *cu, const struct config *cfg, const char *url, struct plain *out)
{
        *out = (struct plain){0};
        const char *target = url;
        bool s3 = startswith(url, "s3://");
        if (s3)
                target = setting(cfg, "s3_endpoint", "AWS_ENDPOINT_URL");
        if (!target || !startswith(target, "http://"))
                return 0;
        out->http = true;
        bool userinfo;
        if (url_parts(cu, target, &out->host, &userinfo) < 0)
                return -EINVAL;
        out->loopback = trust_ip_loopback(out->host) || !strcasecmp(out->host, "localhost");
        if (s3)
                out->creds = "the S3 access key and request signature";
        else if (userinfo)
                out->creds = "the user and password in the URL";
        else if (setting(cfg, "user", NULL) || setting(cfg, "password", NULL))
                out->creds = "[upload] user/password";
        else if (netrc_has(out->host))
                out->creds = "the ~/.netrc entry for the host";
        return 0;
}

int upload_check_transport(const struct config *cfg, const char *url, bool insecure_http, char **why)
{
        *why = NULL;
        const char *lerr;
        const struct curl_api *cu = curl_api(&lerr);
        if (!cu)
                return 0; /* nothing will be sent at all: upload_bundle says why */
        struct plain p;
        if (plain_of(cu, cfg, url, &p) < 0) {
                *why = xstrdup("the URL cannot be parsed");
                plain_free(&p);
                return -EINVAL;
        }
        int r = 0;
        if (p.http && p.creds && !p.loopback && !insecure_http) {
                *why = xasprintf("refusing to send %s in clear text over http:// to %s, which is not this host: use https://, "
                                 "or add --insecure-http to accept that anyone on the way can read them",
                                 p.creds, p.host);
                r = -EPERM;
        }
        plain_free(&p);
        return r;
}

/* Plain http with credentials, allowed because the host is this one: the address
 * actually connected to must be loopback too (a name could resolve elsewhere). */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
        (void)local_ip;
        (void)primary_port;
        (void)local_port;
        bool *refused = arg;
        if (primary_ip && trust_ip_loopback(primary_ip))
                return CURL_PREREQFUNC_OK;
        *refused = true;
        return CURL_PREREQFUNC_ABORT;
}

/* The URL the file is PUT to; for S3 path-style: endpoint/bucket/prefix/name. */
static char *target_url(const struct config *cfg, const char *url, const char *name, char **err)
{
        if (startswith(url, "s3://")) {
                const char *ep = setting(cfg, "s3_endpoint", "AWS_ENDPOINT_URL");
                if (!ep) {
                        *err = xstrdup("s3:// needs s3_endpoint in the [upload] section of the config (or AWS_ENDPOINT_URL)");
                        return NULL;
                }
                const char *rest = url + 5;
                size_t n = strlen(ep);
                return xasprintf("%.*s/%s%s%s", (int)(n && ep[n - 1] == '/' ? n - 1 : n), ep, rest,
                                 rest[strlen(rest) - 1] == '/' ? "" : "/", name);
        }
        return url[strlen(url) - 1] == '/' ? xasprintf("%s%s", url, name) : xstrdup(url);
}

int upload_bundle(const struct config *cfg, const char *url, const char *path, const char *sha256, bool quiet, bool insecure_http)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *err = NULL;
        _cleanup_free_ char *to = target_url(cfg, url, basename(copy), &err);
        _cleanup_free_ char *shown = redact_secrets(to ? to : url, NULL);
        if (!to) {
                _cleanup_free_ char *shown_err = redact_secrets(err, NULL);
                fprintf(stderr, "evodiag: upload: %s\n", shown_err);
                free(err);
                return -EINVAL;
        }
        FILE *f = fopen(path, "rbe");
        struct stat st;
        if (!f || fstat(fileno(f), &st) < 0) {
                fprintf(stderr, "evodiag: upload: %s: %s\n", path, strerror(errno));
                if (f)
                        fclose(f);
                return -errno;
        }
        const char *lerr;
        const struct curl_api *cu = curl_api(&lerr);
        if (!cu) {
                fprintf(stderr, "evodiag: upload: %s\n", lerr);
                fclose(f);
                return -ENOSYS;
        }
        cu->global_init(CURL_GLOBAL_DEFAULT);
        struct plain plain;
        if (plain_of(cu, cfg, url, &plain) < 0 || (plain.http && plain.creds && !plain.loopback && !insecure_http)) {
                fprintf(stderr, "evodiag: upload: refused: credentials over plain http:// to another host\n");
                plain_free(&plain);
                fclose(f);
                cu->global_cleanup();
                return -EPERM;
        }
        /* In clear text to this host only; to another one (--insecure-http) as asked. */
        bool pin_loopback = plain.http && plain.creds && plain.loopback;
        bool refused = false;
        int ret = -EIO;
        long code = 0;
        char errbuf[CURL_ERROR_SIZE] = "";
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                rewind(f);
                CURL *h = cu->easy_init();
                struct curl_slist *hdrs = NULL;
                cu->easy_setopt(h, CURLOPT_URL, to);
                cu->easy_setopt(h, CURLOPT_UPLOAD, 1L);
                cu->easy_setopt(h, CURLOPT_READDATA, f);
                cu->easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
                cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
                cu->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled server must not hang us */
                cu->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
                cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
                cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
                cu->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
                if (pin_loopback) {
                        cu->easy_setopt(h, CURLOPT_PREREQDATA, &refused);
                        if (cu->easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK) {
                                fprintf(stderr, "evodiag: upload: this libcurl cannot check where plain http:// goes "
                                                "(needs 7.80): use https://\n");
                                cu->easy_cleanup(h);
                                ret = -EPERM;
                                break;
                        }
                }
                const char *ca = setting(cfg, "ca_file", NULL);
                if (ca)
                        cu->easy_setopt(h, CURLOPT_CAINFO, ca);
                if (startswith(url, "s3://")) {
                        const char *region = setting(cfg, "s3_region", "AWS_REGION");
                        const char *ak = setting(cfg, "s3_access_key", "AWS_ACCESS_KEY_ID");
                        const char *sk = setting(cfg, "s3_secret_key", "AWS_SECRET_ACCESS_KEY");
                        if (!ak || !sk) {
                                fprintf(stderr, "evodiag: upload: s3:// needs s3_access_key and s3_secret_key in [upload] "
                                                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n");
                                cu->easy_cleanup(h);
                                ret = -EINVAL;
                                break;
                        }
                        _cleanup_free_ char *sig = xasprintf("aws:amz:%s:s3", region ? region : "us-east-1");
                        cu->easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
                        cu->easy_setopt(h, CURLOPT_USERNAME, ak);
                        cu->easy_setopt(h, CURLOPT_PASSWORD, sk);
                        _cleanup_free_ char *ph = xasprintf("x-amz-content-sha256: %s", sha256);
                        hdrs = cu->slist_append(hdrs, ph);
                } else {
                        const char *user = setting(cfg, "user", NULL), *pass = setting(cfg, "password", NULL);
                        if (user) {
                                cu->easy_setopt(h, CURLOPT_USERNAME, user);
                                cu->easy_setopt(h, CURLOPT_PASSWORD, pass ? pass : "");
                        } else {
                                /* Plain http to another host without --insecure-http: no .netrc either. */
                                cu->easy_setopt(h, CURLOPT_NETRC, plain.http && !plain.loopback && !insecure_http
                                                                          ? (long)CURL_NETRC_IGNORED : (long)CURL_NETRC_OPTIONAL);
                        }
                }
                hdrs = cu->slist_append(hdrs, "Content-Type: application/octet-stream");
                cu->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
                CURLcode cr = cu->easy_perform(h);
                code = 0;
                cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
                cu->slist_free_all(hdrs);
                cu->easy_cleanup(h);
                if (cr == CURLE_OK && code >= 200 && code < 300) {
                        ret = 0;
                        break;
                }
                if (refused) {
                        fprintf(stderr, "evodiag: upload to %s: refused: the host name led to an address that is not this host, "
                                        "and credentials would go in clear text\n", shown);
                        ret = -EPERM;
                        break;
                }
                bool retry = cr != CURLE_OK ? cr != CURLE_SSL_CACERT && cr != CURLE_PEER_FAILED_VERIFICATION && cr != CURLE_URL_MALFORMAT
                                            : code >= 500;
                /* curl's message can quote the server (a certificate's names) and the URL:
                 * redacted, then escaped for the terminal */
                _cleanup_free_ char *why_raw = redact_secrets(cr != CURLE_OK ? (*errbuf ? errbuf : cu->easy_strerror(cr)) : "server refused it",
                                                              NULL);
                _cleanup_free_ char *why = esc_text_dup(why_raw);
                fprintf(stderr, "evodiag: upload to %s, attempt %d of %d: %s\n", shown, attempt, ATTEMPTS, why);
                if (cr == CURLE_OK)
                        fprintf(stderr, "evodiag: upload: HTTP status %ld\n", code);
                if (!retry || attempt == ATTEMPTS)
                        break;
                sleep((unsigned)attempt);
        }
        fclose(f);
        plain_free(&plain);
        cu->global_cleanup();
        if (ret == 0 && !quiet)
                fprintf(stderr, "evodiag: uploaded to %s (HTTP %ld), sha256 %s\n", shown, code, sha256);
        return ret;
}
