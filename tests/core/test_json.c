/* test_json.c: the JSON value reader (config.json files) and the json.dumps(indent=2, sort_keys=True)-style
 * writer: values, nesting, what Python writes for numbers, and malformed text named by its byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/json.h"
#include "tests/harness/test.h"

TEST(test_json_parses_nested_values) {
    const char *text = "{\"a\": [1, 2.5, -3e-2, true, null], \"b\": {\"c\": \"x\\\"y\\u0041\"}, \"d\": false, \"e\": []}";
    char err[128];
    json_value *v = json_parse(text, strlen(text), err, sizeof err);
    EXPECT(v && v->type == JSON_OBJECT && v->n == 4, "parse: %s", v ? "" : err);
    if (!v) return;
    const json_value *a = json_get(v, "a"), *c = json_get(json_get(v, "b"), "c");
    EXPECT(a && a->type == JSON_ARRAY && a->n == 5, "array");
    EXPECT(a->items[0]->is_int && a->items[0]->num == 1 && !a->items[1]->is_int && a->items[1]->num == 2.5 &&
           fabs(a->items[2]->num + 0.03) < 1e-15, "numbers and their int/float kind");
    EXPECT(a->items[3]->type == JSON_BOOL && a->items[3]->b && a->items[4]->type == JSON_NULL, "true, null");
    EXPECT(c && c->type == JSON_STRING && !strcmp(c->str, "x\"yA"), "escapes: %s", c ? c->str : "?");
    EXPECT(json_get(v, "d")->type == JSON_BOOL && !json_get(v, "d")->b && json_get(v, "e")->n == 0, "false, empty list");
    EXPECT(json_get(v, "missing") == NULL && json_get(a, "x") == NULL, "absent keys and non-objects give NULL");
    json_free(v);
}

TEST(test_json_writes_as_python_json_dumps) {
    json_value *o = json_object(), *l = json_array();
    json_push(l, json_integer(16));
    json_push(l, json_integer(32));
    json_set(o, "scaling_factor", json_number(0.18215f));   /* a float32 value: written as Python writes 0.18215 */
    json_set(o, "block_out_channels", l);
    json_set(o, "_class_name", json_str("AutoencoderKL"));
    json_set(o, "shift_factor", json_null());
    json_set(o, "force_upcast", json_boolean(true));
    json_set(o, "one", json_number(1.0));
    json_set(o, "tiny", json_number(1e-6));
    json_set(o, "empty", json_object());
    char *s = json_write(o);
    /* python3 -c 'import json; print(json.dumps({...}, indent=2, sort_keys=True))' */
    const char *want = "{\n  \"_class_name\": \"AutoencoderKL\",\n  \"block_out_channels\": [\n    16,\n    32\n  ],\n"
                       "  \"empty\": {},\n  \"force_upcast\": true,\n  \"one\": 1.0,\n  \"scaling_factor\": 0.18215,\n"
                       "  \"shift_factor\": null,\n  \"tiny\": 1e-06\n}\n";
    EXPECT(!strcmp(s, want), "written:\n%s\nwanted:\n%s", s, want);
    char err[64];
    json_value *back = json_parse(s, strlen(s), err, sizeof err);
    EXPECT(back && json_get(back, "block_out_channels")->n == 2 && json_get(back, "one")->num == 1.0, "reads back");
    json_free(back);
    free(s);
    json_free(o);
}

TEST(test_json_malformed_text_names_the_byte) {
    const char *bad[] = {"{\"a\": [1, 2}", "{\"a\" 1}", "{\"a\": tru}", "[1, 2] x", "\"open"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[128] = "";
        json_value *v = json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        EXPECT(v == NULL && strstr(err, "at byte"), "'%s' must fail with the byte: %s", bad[i], err);
        json_free(v);
    }
    EXPECT(json_parse_file("/nonexistent/config.json") == NULL && strstr(vaec_last_error(), "/nonexistent/config.json"),
           "a missing file is named: %s", vaec_last_error());
}
