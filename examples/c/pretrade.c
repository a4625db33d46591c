/* A small pre-trade risk loop over the margin C ABI (C99).
 *
 * Loads a Deribit option-chain CSV (the bundled data/deribit snapshot), builds an engine with
 * the deribit-btc model, fills a 50-position BTC account, computes its margin and checks a
 * stream of orders with the allocation-free what-if call. Every number is printed with %.17g
 * so a test can compare it with the Rust API bit for bit.
 *
 * usage: pretrade CHAIN.csv [ORDERS]          print results
 *        pretrade CHAIN.csv --bench [ORDERS]  also time what-if and batch calls
 */
#define _POSIX_C_SOURCE 199309L
#include "margin.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POSITIONS 50
#define SYMBOL_MAX 64

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

static const char *health_name(margin_health h) {
    switch (h) {
    case MARGIN_HEALTH_HEALTHY: return "healthy";
    case MARGIN_HEALTH_MARGIN_CALL: return "margin_call";
    case MARGIN_HEALTH_LIQUIDATION: return "liquidation";
    }
    return "?";
}

static void print_result(const char *tag, const margin_result *r) {
    printf("%s im=%.17g mm=%.17g equity=%.17g ratio=%.17g has_ratio=%d free=%.17g health=%s "
           "worst=%zu loss=%.17g\n",
           tag, r->initial_margin, r->maintenance_margin, r->equity, r->margin_ratio,
           r->has_margin_ratio ? 1 : 0, r->free_collateral, health_name(r->health),
           r->worst_scenario, r->worst_loss);
}

static uint64_t lcg(uint64_t *x) {
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t len = 0, count = 0, scenarios = 0, n_btc = 0, i, orders = 20, label_len = 0;
    char label[128], symbol[SYMBOL_MAX];
    size_t *btc = NULL;
    margin_engine *engine = NULL;
    margin_account *account = NULL;
    margin_result r;
    int bench = 0, ok = 0;
    uint64_t seed = 42;
    char *csv;

    if (argc < 2) {
        fprintf(stderr, "usage: %s CHAIN.csv [--bench] [ORDERS]\n", argv[0]);
        return 2;
    }
    for (i = 2; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--bench") == 0) bench = 1;
        else orders = (size_t)strtoul(argv[i], NULL, 10);
    }
    if (strcmp(margin_version(), MARGIN_VERSION) != 0) {
        fprintf(stderr, "header %s but library %s\n", MARGIN_VERSION, margin_version());
        return 1;
    }
    csv = read_file(argv[1], &len);
    if (!csv) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 1;
    }
    if (!check(margin_engine_new_from_deribit_csv(csv, len, "deribit-btc", NULL, 0, &engine),
               "engine"))
        goto done;
    if (!check(margin_engine_instrument_count(engine, &count), "count") ||
        !check(margin_engine_scenario_count(engine, &scenarios), "scenarios") ||
        !check(margin_engine_model_label(engine, label, sizeof label, &label_len), "label"))
        goto done;
    printf("version %s\nengine instruments=%zu scenarios=%zu model=%s\n", margin_version(), count,
           scenarios, label);

    /* The BTC (inverse) instruments, in id order. */
    btc = (size_t *)malloc(count * sizeof *btc);
    if (!btc) goto done;
    for (i = 0; i < count; i++) {
        size_t n = 0;
        if (!check(margin_engine_instrument_symbol(engine, i, symbol, sizeof symbol, &n), "symbol"))
            goto done;
        if (strncmp(symbol, "BTC-", 4) == 0) btc[n_btc++] = i;
    }
    if (n_btc < POSITIONS) goto done;

    if (!check(margin_account_new(engine, "BTC", &account), "account") ||
        !check(margin_account_set_equity(account, 25.0), "equity"))
        goto done;
    for (i = 0; i < POSITIONS; i++) {
        size_t id = btc[i * (n_btc / POSITIONS)], n = 0;
        double size = (i % 2 ? -1.0 : 1.0) * (double)(1 + (i * 7) % 5) * 0.25;
        if (!check(margin_account_set_position(account, id, size), "position") ||
            !check(margin_engine_instrument_symbol(engine, id, symbol, sizeof symbol, &n), "symbol"))
            goto done;
        printf("position %s %.17g\n", symbol, size);
    }
    if (!check(margin_account_compute(account, &r), "compute")) goto done;
    print_result("account", &r);
    {
        size_t items = 0, k;
        if (!check(margin_account_line_item_count(account, &items), "items")) goto done;
        for (k = 0; k < items; k++) {
            char name[64];
            size_t n = 0;
            double v = 0;
            if (!check(margin_account_line_item(account, k, name, sizeof name, &n, &v), "item"))
                goto done;
            printf("item %s %.17g\n", name, v);
        }
    }

    /* The order stream: each order is checked, accepted if the account stays healthy. */
    for (i = 0; i < orders; i++) {
        size_t id = btc[lcg(&seed) % n_btc], n = 0;
        double size = ((double)(lcg(&seed) % 9) - 4.0) * 0.5;
        margin_status s;
        char tag[128];
        if (size == 0.0) size = 0.5;
        if (!check(margin_engine_instrument_symbol(engine, id, symbol, sizeof symbol, &n), "symbol"))
            goto done;
        s = margin_account_what_if(account, id, size, &r);
        if (s != MARGIN_STATUS_OK) {
            printf("order %zu %s %.17g status=%d\n", i, symbol, size, (int)s);
            continue;
        }
        snprintf(tag, sizeof tag, "order %zu %s %.17g", i, symbol, size);
        print_result(tag, &r);
        if (r.health == MARGIN_HEALTH_HEALTHY) {
            if (!check(margin_account_add_position(account, id, size), "fill")) goto done;
            printf("fill %zu\n", i);
        }
    }
    if (!check(margin_account_compute(account, &r), "compute")) goto done;
    print_result("final", &r);

    if (bench) {
        enum { WARM = 2000, BATCH = 2000, ROUNDS = 5 };
        size_t reps = orders < 1000 ? 200000 : orders, k;
        double *lat = (double *)malloc(reps * sizeof *lat), t0, t1, sink = 0;
        margin_position *pos = (margin_position *)malloc(POSITIONS * sizeof *pos);
        margin_batch_account *accts = (margin_batch_account *)malloc(BATCH * sizeof *accts);
        margin_result *results = (margin_result *)malloc(BATCH * sizeof *results);
        margin_status *statuses = (margin_status *)malloc(BATCH * sizeof *statuses);
        size_t held = 0;
        if (!lat || !pos || !accts || !results || !statuses) goto bench_done;
        /* Restore the 50-position account. */
        margin_account_free(account);
        account = NULL;
        if (!check(margin_account_new(engine, "BTC", &account), "account") ||
            !check(margin_account_set_equity(account, 25.0), "equity"))
            goto bench_done;
        for (k = 0; k < POSITIONS; k++) {
            pos[k].instrument = btc[k * (n_btc / POSITIONS)];
            pos[k].size = (k % 2 ? -1.0 : 1.0) * (double)(1 + (k * 7) % 5) * 0.25;
            if (!check(margin_account_set_position(account, pos[k].instrument, pos[k].size), "pos"))
                goto bench_done;
        }
        if (!check(margin_account_position_count(account, &held), "held") || held != POSITIONS ||
            !check(margin_account_compute(account, &r), "compute"))
            goto bench_done;
        for (k = 0; k < WARM + reps; k++) {
            size_t id = btc[lcg(&seed) % n_btc];
            double size = ((double)(lcg(&seed) % 9) - 4.0) * 0.5 + 0.25;
            t0 = now_ns();
            margin_account_what_if(account, id, size, &r);
            t1 = now_ns();
            sink += r.initial_margin;
            if (k >= WARM) lat[k - WARM] = t1 - t0;
        }
        qsort(lat, reps, sizeof *lat, cmp_double);
        printf("bench what_if positions=%d scenarios=%zu n=%zu p50_ns=%.0f p99_ns=%.0f "
               "max_ns=%.0f\n",
               POSITIONS, scenarios, reps, lat[reps / 2], lat[reps * 99 / 100], lat[reps - 1]);
        for (k = 0; k < BATCH; k++) {
            accts[k].currency = "BTC";
            accts[k].equity = 10.0 + (double)k;
            accts[k].positions = pos;
            accts[k].position_count = POSITIONS;
        }
        t0 = now_ns();
        for (k = 0; k < ROUNDS; k++)
            if (!check(margin_engine_compute_batch(engine, accts, BATCH, results, statuses), "batch"))
                goto bench_done;
        t1 = now_ns();
        sink += results[0].initial_margin;
        printf("bench batch accounts=%d positions=%d accounts_per_s=%.0f (checksum %g)\n",
               BATCH * ROUNDS, POSITIONS, (double)(BATCH * ROUNDS) / ((t1 - t0) * 1e-9), sink);
        {
            /* Rebuilding the engine when marks move: parse the chain and price every row. */
            margin_engine *rebuilt = NULL;
            t0 = now_ns();
            if (!check(margin_engine_new_from_deribit_csv(csv, len, "deribit-btc", NULL, 0, &rebuilt),
                       "rebuild"))
                goto bench_done;
            t1 = now_ns();
            printf("bench engine_rebuild instruments=%zu scenarios=%zu ms=%.1f\n", count, scenarios,
                   (t1 - t0) * 1e-6);
            margin_engine_free(rebuilt);
        }
    bench_done:
        free(lat);
        free(pos);
        free(accts);
        free(results);
        free(statuses);
    }
    ok = 1;
done:
    margin_account_free(account);
    margin_engine_free(engine);
    free(btc);
    free(csv);
    return ok ? 0 : 1;
}
