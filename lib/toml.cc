// lib/toml: toml++ behind the C interface of lib/toml.h. Every C++ exception stops
// here: a C caller gets an error value, never an unwinding stack.
#include "config.h"
#include "lib/toml.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

struct toml_doc {
        toml::table tbl;
};

static void set_error(struct toml_error *err, unsigned line, unsigned col, const char *what)
{
        if (!err)
                return;
        err->line = line;
        err->column = col;
        std::snprintf(err->what, sizeof(err->what), "%s", what);
}

extern "C" struct toml_doc *toml_doc_parse(const char *text, size_t len, struct toml_error *err)
{
        set_error(err, 0, 0, "");
        try {
                toml::table t = toml::parse(std::string_view(text, len));
                return new toml_doc{std::move(t)};
        } catch (const toml::parse_error &e) {
                const auto &b = e.source().begin;
                set_error(err, (unsigned)b.line, (unsigned)b.column, std::string(e.description()).c_str());
        } catch (const std::bad_alloc &) {
                set_error(err, 0, 0, "out of memory");
        } catch (...) {
                set_error(err, 0, 0, "the TOML parser failed");
        }
        return nullptr;
}

extern "C" void toml_doc_free(struct toml_doc *d)
{
        delete d;
}

static toml::node_view<const toml::node> at(const struct toml_doc *d, const char *path)
{
        if (!d || !path)
                return {};
        try {
                return d->tbl.at_path(std::string_view(path));
        } catch (...) {
                return {};
        }
}

extern "C" enum toml_kind toml_kind_at(const struct toml_doc *d, const char *path)
{
        auto v = at(d, path);
        if (!v)
                return TOML_NONE;
        switch (v.type()) {
        case toml::node_type::string: return TOML_STRING;
        case toml::node_type::integer: return TOML_INT;
        case toml::node_type::floating_point: return TOML_FLOAT;
        case toml::node_type::boolean: return TOML_BOOL;
        case toml::node_type::table: return TOML_TABLE;
        case toml::node_type::array: return TOML_ARRAY;
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time: return TOML_DATETIME;
        default: return TOML_NONE;
        }
}

extern "C" int toml_get_string(const struct toml_doc *d, const char *path, char **out)
{
        auto v = at(d, path);
        if (!v)
                return -ENOENT;
        auto s = v.value<std::string_view>();
        if (!v.is_string() || !s)
                return -EINVAL;
        char *r = static_cast<char *>(std::malloc(s->size() + 1));
        if (!r)
                return -ENOMEM;
        std::memcpy(r, s->data(), s->size());
        r[s->size()] = 0;
        *out = r;
        return 0;
}

extern "C" int toml_get_int(const struct toml_doc *d, const char *path, int64_t *out)
{
        auto v = at(d, path);
        if (!v)
                return -ENOENT;
        if (!v.is_integer())
                return -EINVAL;
        *out = *v.value<int64_t>();
        return 0;
}

extern "C" int toml_get_number(const struct toml_doc *d, const char *path, double *out)
{
        auto v = at(d, path);
        if (!v)
                return -ENOENT;
        if (v.is_integer())
                *out = (double)*v.value<int64_t>();
        else if (v.is_floating_point())
                *out = *v.value<double>();
        else
                return -EINVAL;
        return 0;
}

extern "C" int toml_get_bool(const struct toml_doc *d, const char *path, bool *out)
{
        auto v = at(d, path);
        if (!v)
                return -ENOENT;
        if (!v.is_boolean())
                return -EINVAL;
        *out = *v.value<bool>();
        return 0;
}

static size_t count_values(const toml::node &n)
{
        size_t k = 0;
        if (auto t = n.as_table()) {
                for (auto &&[key, val] : *t)
                        k += val.is_table() || val.is_array() ? count_values(val) : 1;
        } else if (auto a = n.as_array()) {
                for (auto &&val : *a)
                        k += val.is_table() || val.is_array() ? count_values(val) : 1;
        }
        return k;
}

extern "C" char *toml_tables(const struct toml_doc *d, size_t *nkeys)
{
        try {
                std::string s;
                for (auto &&[key, val] : d->tbl)
                        if (val.is_table()) {
                                if (!s.empty())
                                        s += ", ";
                                s += key.str();
                        }
                if (nkeys)
                        *nkeys = count_values(d->tbl);
                return strdup(s.c_str());
        } catch (...) {
                if (nkeys)
                        *nkeys = 0;
                return strdup("");
        }
}
