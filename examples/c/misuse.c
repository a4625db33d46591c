/* Misuse of the margin C ABI: NULL everywhere, bad enum integers, bad JSON, unknown
 * instruments, short buffers. Every call must return the documented status and leave its
 * outputs untouched; run under ASan/UBSan and valgrind by the test suite (C99). */
#include "margin.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0, checks = 0;

#define EXPECT(call, want)                                                                    \
    do {                                                                                      \
        margin_status got_ = (call);                                                          \
        checks++;                                                                             \
        if (got_ != (want)) {                                                                 \
            failures++;                                                                       \
            fprintf(stderr, "line %d: %s returned %d (%s), expected %d\n", __LINE__, #call,   \
                    (int)got_, margin_status_message((int32_t)got_), (int)(want));            \
        }                                                                                     \
    } while (0)

#define TRUE_(cond)                                                                           \
    do {                                                                                      \
        checks++;                                                                             \
        if (!(cond)) {                                                                        \
            failures++;                                                                       \
            fprintf(stderr, "line %d: %s is false\n", __LINE__, #cond);                       \
        }                                                                                     \
    } while (0)

static const char *JSON =
    "{\"valuation_time\": \"2026-08-22T15:33:51Z\","
    " \"underlyings\": {\"BTC\": {\"index_price\": 77081.8,"
    "   \"forwards\": {\"2026-09-25T08:00:00Z\": 77405.28}}},"
    " \"instruments\": {\"BTC-PERPETUAL\": {\"mark_price\": 77100.0},"
    "   \"BTC-25SEP26-120000-P\": {\"mark_iv\": 0.6246}}}";

int main(void) {
    margin_engine *engine = NULL, *sentinel = (margin_engine *)&failures;
    margin_account *account = NULL;
    margin_result r, untouched;
    size_t id = 12345, n = 0;
    char buf[8];
    double v = 0;
    margin_param bad_param = {"no_such_parameter", 1.0};
    margin_param null_param = {NULL, 1.0};
    margin_greeks g;

    memset(&untouched, 0xAB, sizeof untouched);

    /* Status messages exist for every value, and for values that are not statuses. */
    TRUE_(strcmp(margin_status_message(0), "success") == 0);
    TRUE_(margin_status_message(-1) != NULL && margin_status_message(1000) != NULL);
    TRUE_(strcmp(margin_status_message(MARGIN_STATUS_PANIC), margin_status_message(9999)) != 0);

    /* Frees of NULL are no-ops. */
    margin_engine_free(NULL);
    margin_account_free(NULL);

    /* Engine construction. */
    EXPECT(margin_engine_new_from_json(NULL, 10, "deribit-btc", NULL, 0, &engine),
           MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), NULL, NULL, 0, &engine),
           MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "deribit-btc", NULL, 0, NULL),
           MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "deribit-btc", NULL, 1, &engine),
           MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "deribit-btc", &null_param, 1, &engine),
           MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_new_from_json("{\"valuation_time\": ", 19, "deribit-btc", NULL, 0, &engine),
           MARGIN_STATUS_BAD_FORMAT);
    {
        char msg[512];
        size_t mlen = 0;
        EXPECT(margin_last_error_message(msg, sizeof msg, &mlen), MARGIN_STATUS_OK);
        TRUE_(strstr(msg, "malformed JSON") != NULL && mlen == strlen(msg));
        EXPECT(margin_last_error_message(msg, 4, &mlen), MARGIN_STATUS_CAPACITY);
        EXPECT(margin_last_error_message(NULL, 4, &mlen), MARGIN_STATUS_NULL_POINTER);
    }
    EXPECT(margin_engine_new_from_json("\xff\xfe", 2, "deribit-btc", NULL, 0, &engine),
           MARGIN_STATUS_INVALID_ARGUMENT);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "no-such-preset", NULL, 0, &engine),
           MARGIN_STATUS_UNKNOWN_PRESET);
    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "deribit-btc", &bad_param, 1, &engine),
           MARGIN_STATUS_UNKNOWN_PARAMETER);
    EXPECT(margin_engine_new_from_deribit_csv("a,b\n1,2\n", 8, "deribit-btc", NULL, 0, &engine),
           MARGIN_STATUS_BAD_FORMAT);
    TRUE_(engine == NULL);
    {
        margin_vol vol = {1790323200000LL, 120000.0, 7 /* not a margin_right */, 0.6};
        margin_forward fwd = {1790323200000LL, 77405.28};
        margin_underlying u = {"BTC", 77081.8, 77081.8, 0.0, &fwd, 1, &vol, 1};
        margin_market m = {1787412831000LL, &u, 1, NULL, 0};
        engine = sentinel;
        EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_INVALID_ARGUMENT);
        TRUE_(engine == sentinel); /* outputs written only on success */
        vol.right = MARGIN_RIGHT_PUT;
        u.index_price = -1.0;
        EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_BAD_NUMBER);
        u.index_price = 77081.8;
        u.vols = NULL;
        EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_NULL_POINTER);
        u.vols = &vol;
        m.valuation_time_ms = 1790323200000LL + 1;
        {
            /* Listed rows must be priceable; without a list, expired ones just get no row. */
            const char *expired[1] = {"BTC-25SEP26-120000-P"};
            char msg[512];
            size_t mlen = 0;
            m.symbols = expired;
            m.symbol_count = 1;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_EXPIRED);
            TRUE_(engine == sentinel);
            m.symbols = NULL;
            m.symbol_count = 0;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_OK);
            EXPECT(margin_engine_instrument_id(engine, "BTC-25SEP26-120000-P", &id),
                   MARGIN_STATUS_UNKNOWN_INSTRUMENT);
            EXPECT(margin_last_error_message(msg, sizeof msg, &mlen), MARGIN_STATUS_OK);
            TRUE_(strstr(msg, "BTC-25SEP26-120000-P expired at") != NULL);
            TRUE_(id == 12345);
            margin_engine_free(engine);
            engine = sentinel;
        }
        m.valuation_time_ms = 1787412831000LL;
        EXPECT(margin_engine_new(NULL, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_NULL_POINTER);
        {
            const char *dup[2] = {"BTC-PERPETUAL", "BTC-PERPETUAL"};
            const char *bad[1] = {"BTC-XYZ"};
            const char *eth[1] = {"ETH-PERPETUAL"};
            const char *nul[1] = {NULL};
            m.symbols = dup;
            m.symbol_count = 2;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_DUPLICATE);
            m.symbols = bad;
            m.symbol_count = 1;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_BAD_SYMBOL);
            m.symbols = eth;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine),
                   MARGIN_STATUS_MISSING_MARKET_DATA);
            m.symbols = nul;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_NULL_POINTER);
            m.symbols = NULL;
            EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_NULL_POINTER);
            m.symbol_count = 0;
        }
        EXPECT(margin_engine_new(&m, "deribit-btc", NULL, 0, &engine), MARGIN_STATUS_OK);
        TRUE_(engine != sentinel && engine != NULL);
        margin_engine_free(engine);
        engine = NULL;
    }

    EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "deribit-btc", NULL, 0, &engine),
           MARGIN_STATUS_OK);
    if (!engine) return 1;

    /* Engine queries. */
    EXPECT(margin_engine_instrument_id(NULL, "BTC-PERPETUAL", &id), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_instrument_id(engine, NULL, &id), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_instrument_id(engine, "BTC-PERPETUAL", NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_instrument_id(engine, "BTC-25SEP26-1-P", &id), MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    EXPECT(margin_engine_instrument_id(engine, "not a symbol", &id), MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    TRUE_(id == 12345);
    EXPECT(margin_engine_instrument_count(engine, NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_instrument_symbol(engine, 0, buf, 2, &n), MARGIN_STATUS_CAPACITY);
    EXPECT(margin_engine_instrument_symbol(engine, 0, NULL, 64, &n), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_engine_instrument_symbol(engine, 99999, buf, sizeof buf, &n),
           MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    TRUE_(n == 0);
    EXPECT(margin_engine_scenario(engine, 99999, NULL), MARGIN_STATUS_NULL_POINTER);
    {
        margin_scenario s;
        EXPECT(margin_engine_scenario(engine, 99999, &s), MARGIN_STATUS_OUT_OF_RANGE);
    }
    EXPECT(margin_engine_model_label(engine, buf, sizeof buf, &n), MARGIN_STATUS_CAPACITY);

    /* Accounts. */
    EXPECT(margin_account_new(NULL, "BTC", &account), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_new(engine, NULL, &account), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_new(engine, "btc lower", &account), MARGIN_STATUS_BAD_SYMBOL);
    EXPECT(margin_account_new(engine, "BTC", NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_new(engine, "BTC", &account), MARGIN_STATUS_OK);
    if (!account) return 1;
    EXPECT(margin_account_set_equity(NULL, 1.0), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_set_equity(account, NAN), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_account_set_equity(account, INFINITY), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_account_set_position(account, 99999, 1.0), MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    EXPECT(margin_account_set_position(account, 99999, 0.0), MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    EXPECT(margin_account_set_position(account, 0, NAN), MARGIN_STATUS_BAD_SIZE);
    EXPECT(margin_account_set_position(account, 0, 2e9), MARGIN_STATUS_BAD_SIZE);
    {
        char msg[512];
        size_t mlen = 0;
        EXPECT(margin_last_error_message(msg, sizeof msg, &mlen), MARGIN_STATUS_OK);
        TRUE_(strstr(msg, "2000000000") != NULL); /* the detail names the size */
    }
    EXPECT(margin_account_add_position(account, 0, INFINITY), MARGIN_STATUS_BAD_SIZE);
    EXPECT(margin_account_remove_position(NULL, 0), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_position_count(account, &n), MARGIN_STATUS_OK);
    TRUE_(n == 0); /* every rejected change left the account empty */
    EXPECT(margin_account_line_item_count(account, &n), MARGIN_STATUS_NOT_COMPUTED);
    EXPECT(margin_account_scenario_pnl(account, &v, 1, &n), MARGIN_STATUS_NOT_COMPUTED);
    EXPECT(margin_engine_instrument_id(engine, "BTC-25SEP26-120000-P", &id), MARGIN_STATUS_OK);
    EXPECT(margin_account_set_position(account, id, -1.0), MARGIN_STATUS_OK);
    EXPECT(margin_account_set_equity(account, 1.0), MARGIN_STATUS_OK);
    r = untouched;
    EXPECT(margin_account_compute(NULL, &r), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_compute(account, NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_what_if(account, 99999, 1.0, &r), MARGIN_STATUS_UNKNOWN_INSTRUMENT);
    EXPECT(margin_account_what_if(account, id, NAN, &r), MARGIN_STATUS_BAD_SIZE);
    EXPECT(margin_account_what_if(account, id, 1.0, NULL), MARGIN_STATUS_NULL_POINTER);
    TRUE_(memcmp(&r, &untouched, sizeof r) == 0);
    EXPECT(margin_account_compute(account, &r), MARGIN_STATUS_OK);
    TRUE_(r.initial_margin > 0.0 && r.maintenance_margin > 0.0);
    EXPECT(margin_account_scenario_pnl(account, &v, 1, &n), MARGIN_STATUS_CAPACITY);
    EXPECT(margin_account_scenario_pnl(account, NULL, 64, &n), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_line_item(account, 99, buf, sizeof buf, &n, &v), MARGIN_STATUS_OUT_OF_RANGE);
    EXPECT(margin_account_line_item(account, 0, buf, 1, &n, &v), MARGIN_STATUS_CAPACITY);
    EXPECT(margin_account_line_item(account, 0, buf, sizeof buf, &n, NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_position(account, 5, NULL), MARGIN_STATUS_NULL_POINTER);
    {
        margin_position p;
        EXPECT(margin_account_position(account, 5, &p), MARGIN_STATUS_OUT_OF_RANGE);
    }

    /* Batch: per-account statuses; bad arguments fail the whole call. */
    {
        margin_position pos[2] = {{0, 1.0}, {99999, 1.0}};
        margin_batch_account a[3] = {{"BTC", 1.0, pos, 1}, {"BTC", 1.0, pos, 2}, {NULL, 1.0, pos, 1}};
        margin_result res[3];
        margin_status st[3];
        EXPECT(margin_engine_compute_batch(engine, a, 3, res, st), MARGIN_STATUS_OK);
        TRUE_(st[0] == MARGIN_STATUS_OK && st[1] == MARGIN_STATUS_UNKNOWN_INSTRUMENT &&
              st[2] == MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_engine_compute_batch(engine, a, 3, NULL, st), MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_engine_compute_batch(engine, NULL, 0, NULL, NULL), MARGIN_STATUS_OK);
    }

    /* The allocation-free subset. */
    EXPECT(margin_black76(2, 100.0, 100.0, 0.2, 1.0, 0.0, &g), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_black76(-1, 100.0, 100.0, 0.2, 1.0, 0.0, &g), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_black76(MARGIN_RIGHT_CALL, -100.0, 100.0, 0.2, 1.0, 0.0, &g), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_black76(MARGIN_RIGHT_CALL, 100.0, 100.0, NAN, 1.0, 0.0, &g), MARGIN_STATUS_BAD_NUMBER);
    EXPECT(margin_black76(MARGIN_RIGHT_CALL, 100.0, 100.0, 0.2, 1.0, 0.0, NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_instrument_value("BTC-XYZ", 1.0, 0.2, 1.0, 0.0, 1.0, &v), MARGIN_STATUS_BAD_SYMBOL);
    EXPECT(margin_instrument_value(NULL, 1.0, 0.2, 1.0, 0.0, 1.0, &v), MARGIN_STATUS_NULL_POINTER);

    EXPECT(margin_account_set_engine(account, NULL), MARGIN_STATUS_NULL_POINTER);
    EXPECT(margin_account_set_engine(NULL, engine), MARGIN_STATUS_NULL_POINTER);

    /* Statistical presets: a history is required, a grid takes none; bad histories. */
    {
        static const char *HISTORY = "date,BTC\n2026-08-20,76000\n2026-08-21,77000\n";
        static const char *GAP = "date,BTC\n2026-08-20,76000\n2026-08-22,77000\n";
        const char *missing[1] = {"/nonexistent/history.csv"};
        const char *null_spec[1] = {NULL};
        margin_history *h = NULL, *hsentinel = (margin_history *)&failures;
        margin_engine *e = sentinel;
        bool stat = false;
        size_t dates = 0, coins = 0;
        EXPECT(margin_history_new_from_files(NULL, 1, &h), MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_history_new_from_files(null_spec, 1, &h), MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_history_new_from_files(missing, 0, &h), MARGIN_STATUS_INVALID_ARGUMENT);
        h = hsentinel;
        EXPECT(margin_history_new_from_files(missing, 1, &h), MARGIN_STATUS_BAD_FORMAT);
        EXPECT(margin_history_new_from_csv(GAP, strlen(GAP), NULL, &h), MARGIN_STATUS_BAD_FORMAT);
        EXPECT(margin_history_new_from_csv(HISTORY, strlen(HISTORY), "btc", &h),
               MARGIN_STATUS_BAD_SYMBOL);
        TRUE_(h == hsentinel);
        EXPECT(margin_history_new_from_csv(HISTORY, strlen(HISTORY), NULL, &h), MARGIN_STATUS_OK);
        EXPECT(margin_history_size(h, &dates, NULL), MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_history_size(h, &dates, &coins), MARGIN_STATUS_OK);
        TRUE_(dates == 2 && coins == 1);
        EXPECT(margin_model_is_statistical("hs-es", NULL), MARGIN_STATUS_NULL_POINTER);
        EXPECT(margin_model_is_statistical("no-such-model", &stat), MARGIN_STATUS_UNKNOWN_PRESET);
        EXPECT(margin_model_is_statistical("hs-es", &stat), MARGIN_STATUS_OK);
        TRUE_(stat);
        EXPECT(margin_engine_new_from_json(JSON, strlen(JSON), "hs-es", NULL, 0, &e),
               MARGIN_STATUS_INVALID_ARGUMENT);
        EXPECT(margin_engine_new_from_json_with_history(JSON, strlen(JSON), "hs-es", NULL, 0, NULL, &e),
               MARGIN_STATUS_INVALID_ARGUMENT);
        EXPECT(margin_engine_new_from_json_with_history(JSON, strlen(JSON), "deribit-btc", NULL, 0, h, &e),
               MARGIN_STATUS_INVALID_ARGUMENT);
        /* Two closes give one return: too few for the model's scenarios. */
        EXPECT(margin_engine_new_from_json_with_history(JSON, strlen(JSON), "hs-es", NULL, 0, h, &e),
               MARGIN_STATUS_BAD_NUMBER);
        EXPECT(margin_engine_new_with_history(NULL, "hs-es", NULL, 0, h, &e), MARGIN_STATUS_NULL_POINTER);
        TRUE_(e == sentinel);
        margin_history_free(h);
        margin_history_free(NULL);
    }

    /* An account outlives its engine. */
    margin_engine_free(engine);
    EXPECT(margin_account_what_if(account, id, 1.0, &r), MARGIN_STATUS_OK);
    margin_account_free(account);

    printf("misuse checks=%d failures=%d\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
