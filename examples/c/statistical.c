/* A statistical margin model over the margin C ABI (C99).
 *
 * The same account calls as pretrade.c, under a statistical preset (hs-es, fhs-es, mc-es,
 * parametric-var): the engine is built with a price history (the bundled
 * data/btc-eth-daily CSV, read as `margin --history` reads it) and every margin runs over the
 * model's joint scenarios. Only the engine constructor differs from a grid model. Every
 * number is printed with %.17g so a test can compare it with the CLI's computation bit for
 * bit.
 *
 * usage: statistical CHAIN.csv HISTORY.csv [MODEL]     (MODEL defaults to hs-es)
 */
#include "margin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYMBOL_MAX 64

static const char *const SYMBOLS[] = {
    "BTC-PERPETUAL",        "BTC-25SEP26",          "BTC-25SEP26-120000-P",
    "BTC-25SEP26-70000-C",  "BTC-25DEC26-76000-C",  "BTC-26MAR27-68000-P",
};
static const double SIZES[] = {0.7, -0.3, 1.5, -2.0, -1.25, 0.5};
#define POSITIONS (sizeof SIZES / sizeof SIZES[0])

static int check(margin_status s, const char *what) {
    if (s != MARGIN_STATUS_OK) {
        char detail[512];
        size_t n = 0;
        if (margin_last_error_message(detail, sizeof detail, &n) != MARGIN_STATUS_OK)
            strcpy(detail, margin_status_message((int32_t)s));
        fprintf(stderr, "%s: %s\n", what, detail);
        return 0;
    }
    return 1;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = (char *)malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static void print_result(const char *tag, const margin_result *r) {
    printf("%s im=%.17g mm=%.17g equity=%.17g ratio=%.17g has_ratio=%d free=%.17g worst=%zu "
           "loss=%.17g\n",
           tag, r->initial_margin, r->maintenance_margin, r->equity, r->margin_ratio,
           r->has_margin_ratio ? 1 : 0, r->free_collateral, r->worst_scenario, r->worst_loss);
}

int main(int argc, char **argv) {
    const char *model = argc > 3 ? argv[3] : "hs-es";
    size_t len = 0, ids[POSITIONS], i, n = 0, written = 0, dates = 0, coins = 0, items = 0;
    char *csv;
    bool statistical = false;
    margin_history *history = NULL;
    margin_engine *engine = NULL;
    margin_account *acct = NULL;
    margin_result r;
    margin_scenario sc;
    double *pnl = NULL;
    margin_status s;
    int ok = 0;

    if (argc < 3) {
        fprintf(stderr, "usage: %s CHAIN.csv HISTORY.csv [MODEL]\n", argv[0]);
        return 2;
    }
    csv = read_file(argv[1], &len);
    if (!csv) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    if (!check(margin_model_is_statistical(model, &statistical), "model")) goto done;
    printf("model %s statistical=%d\n", model, statistical ? 1 : 0);

    /* Without a history a statistical preset is refused with a status, never a crash. */
    s = margin_engine_new_from_deribit_csv(csv, len, model, NULL, 0, &engine);
    printf("without_history status=%d\n", (int)s);
    if (s == MARGIN_STATUS_OK) goto done;

    {
        const char *specs[1];
        specs[0] = argv[2];
        if (!check(margin_history_new_from_files(specs, 1, &history), "history")) goto done;
    }
    if (!check(margin_history_size(history, &dates, &coins), "history size")) goto done;
    printf("history dates=%zu coins=%zu\n", dates, coins);
    if (!check(margin_engine_new_from_deribit_csv_with_history(csv, len, model, NULL, 0, history,
                                                               &engine),
               "engine"))
        goto done;
    /* The engine copied what it needs: the history can go now. */
    margin_history_free(history);
    history = NULL;
    if (!check(margin_engine_scenario_count(engine, &n), "scenario count")) goto done;
    printf("engine joint_scenarios=%zu\n", n);

    if (!check(margin_account_new(engine, "BTC", &acct), "account")) goto done;
    if (!check(margin_account_set_equity(acct, 3.0), "equity")) goto done;
    for (i = 0; i < POSITIONS; i++) {
        if (!check(margin_engine_instrument_id(engine, SYMBOLS[i], &ids[i]), SYMBOLS[i])) goto done;
        if (!check(margin_account_set_position(acct, ids[i], SIZES[i]), "position")) goto done;
        printf("position %s %.17g\n", SYMBOLS[i], SIZES[i]);
    }
    if (!check(margin_account_compute(acct, &r), "compute")) goto done;
    print_result("account", &r);
    if (!check(margin_account_line_item_count(acct, &items), "items")) goto done;
    for (i = 0; i < items; i++) {
        char name[SYMBOL_MAX];
        size_t name_len = 0;
        double v = 0.0;
        if (!check(margin_account_line_item(acct, i, name, sizeof name, &name_len, &v), "item"))
            goto done;
        printf("item %s %.17g\n", name, v);
    }

    /* The account's P&L in each joint scenario; the worst one is minus the worst loss. */
    pnl = (double *)malloc(n * sizeof *pnl);
    if (!pnl) goto done;
    if (!check(margin_account_scenario_pnl(acct, pnl, n, &written), "pnl")) goto done;
    printf("pnl count=%zu worst=%.17g\n", written, pnl[r.worst_scenario]);

    /* Joint scenarios are not grid scenarios. */
    s = margin_engine_scenario(engine, 0, &sc);
    printf("grid_scenario status=%d\n", (int)s);

    /* Pre-trade checks: the account with the order merged in; the account is unchanged. */
    {
        const char *orders[] = {"BTC-25SEP26-70000-C", "BTC-25DEC26-80000-P"};
        const double sizes[] = {0.5, -1.0};
        for (i = 0; i < 2; i++) {
            size_t id;
            char tag[128];
            if (!check(margin_engine_instrument_id(engine, orders[i], &id), orders[i])) goto done;
            if (!check(margin_account_what_if(acct, id, sizes[i], &r), "what-if")) goto done;
            snprintf(tag, sizeof tag, "order %zu %s %.17g", i, orders[i], sizes[i]);
            print_result(tag, &r);
        }
    }

    /* The same account through the batch call. */
    {
        margin_position positions[POSITIONS];
        margin_batch_account batch;
        margin_status status;
        for (i = 0; i < POSITIONS; i++) {
            positions[i].instrument = ids[i];
            positions[i].size = SIZES[i];
        }
        batch.currency = "BTC";
        batch.equity = 3.0;
        batch.positions = positions;
        batch.position_count = POSITIONS;
        if (!check(margin_engine_compute_batch(engine, &batch, 1, &r, &status), "batch")) goto done;
        if (!check(status, "batch account")) goto done;
        print_result("batch", &r);
    }
    ok = 1;

done:
    free(pnl);
    margin_account_free(acct);
    margin_engine_free(engine);
    margin_history_free(history);
    free(csv);
    return ok ? 0 : 1;
}
