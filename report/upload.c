#include "config.h"
#include "report/upload.h"
#include "lib/escape.h"
#include "lib/redact.h"
#include "lib/util.h"

#include "lib/curl_api.h"
#include <errno.h>
#include <libgen.h>
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

int upload_bundle(const struct config *cfg, const char *url, const char *path, const char *sha256, bool quiet)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *err = NULL;
        _cleanup_free_ char *to = target_url(cfg, url, basename(copy), &err);
        struct redactor *red = redactor_new();
        _cleanup_free_ char *shown = redact_str(red, to ? to : url, NULL);
        redactor_free(red);
        if (!to) {
                fprintf(stderr, "evodiag: upload: %s\n", err);
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
                                cu->easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
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
                bool retry = cr != CURLE_OK ? cr != CURLE_SSL_CACERT && cr != CURLE_PEER_FAILED_VERIFICATION && cr != CURLE_URL_MALFORMAT
                                            : code >= 500;
                /* curl's message can quote the server (a certificate's names): escaped for the terminal */
                _cleanup_free_ char *why = esc_text_dup(cr != CURLE_OK ? (*errbuf ? errbuf : cu->easy_strerror(cr)) : "server refused it");
                fprintf(stderr, "evodiag: upload to %s, attempt %d of %d: %s\n", shown, attempt, ATTEMPTS, why);
                if (cr == CURLE_OK)
                        fprintf(stderr, "evodiag: upload: HTTP status %ld\n", code);
                if (!retry || attempt == ATTEMPTS)
                        break;
                sleep((unsigned)attempt);
        }
        fclose(f);
        cu->global_cleanup();
        if (ret == 0 && !quiet)
                fprintf(stderr, "evodiag: uploaded to %s (HTTP %ld), sha256 %s\n", shown, code, sha256);
        return ret;
}
