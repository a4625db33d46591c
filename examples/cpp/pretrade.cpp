// The pre-trade risk loop of examples/c/pretrade.c in C++17, with RAII handles; it prints
// the same lines so a test can compare both with the Rust API.
//
// usage: pretrade_cpp CHAIN.csv [ORDERS]
#include "margin.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct EngineFree {
    void operator()(margin_engine *e) const { margin_engine_free(e); }
};
struct AccountFree {
    void operator()(margin_account *a) const { margin_account_free(a); }
};
using Engine = std::unique_ptr<margin_engine, EngineFree>;
using Account = std::unique_ptr<margin_account, AccountFree>;

void check(margin_status s, const char *what) {
    if (s != MARGIN_STATUS_OK)
        throw std::runtime_error(std::string(what) + ": " +
                                 margin_status_message(static_cast<int32_t>(s)));
}

std::string symbol_of(const margin_engine *e, size_t id) {
    char buf[64];
    size_t n = 0;
    check(margin_engine_instrument_symbol(e, id, buf, sizeof buf, &n), "symbol");
    return std::string(buf, n);
}

const char *health_name(margin_health h) {
    switch (h) {
    case MARGIN_HEALTH_HEALTHY: return "healthy";
    case MARGIN_HEALTH_MARGIN_CALL: return "margin_call";
    case MARGIN_HEALTH_LIQUIDATION: return "liquidation";
    }
    return "?";
}

void print_result(const std::string &tag, const margin_result &r) {
    std::printf("%s im=%.17g mm=%.17g equity=%.17g ratio=%.17g has_ratio=%d free=%.17g "
                "health=%s worst=%zu loss=%.17g\n",
                tag.c_str(), r.initial_margin, r.maintenance_margin, r.equity, r.margin_ratio,
                r.has_margin_ratio ? 1 : 0, r.free_collateral, health_name(r.health),
                r.worst_scenario, r.worst_loss);
}

std::uint64_t lcg(std::uint64_t &x) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    return x >> 33;
}

int run(int argc, char **argv) {
    if (argc < 2) throw std::runtime_error("usage: pretrade_cpp CHAIN.csv [ORDERS]");
    const size_t orders = argc > 2 ? std::stoul(argv[2]) : 20;
    constexpr size_t positions = 50;
    if (std::string(margin_version()) != MARGIN_VERSION)
        throw std::runtime_error("header and library versions differ");
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot read ") + argv[1]);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string csv = ss.str();

    margin_engine *raw_engine = nullptr;
    check(margin_engine_new_from_deribit_csv(csv.data(), csv.size(), "deribit-btc", nullptr, 0,
                                             &raw_engine),
          "engine");
    Engine engine(raw_engine);
    size_t count = 0, scenarios = 0, label_len = 0;
    char label[128];
    check(margin_engine_instrument_count(engine.get(), &count), "count");
    check(margin_engine_scenario_count(engine.get(), &scenarios), "scenarios");
    check(margin_engine_model_label(engine.get(), label, sizeof label, &label_len), "label");
    std::printf("version %s\nengine instruments=%zu scenarios=%zu model=%s\n", margin_version(),
                count, scenarios, label);

    std::vector<size_t> btc;
    for (size_t i = 0; i < count; i++)
        if (symbol_of(engine.get(), i).rfind("BTC-", 0) == 0) btc.push_back(i);
    if (btc.size() < positions) throw std::runtime_error("too few BTC instruments");

    margin_account *raw_account = nullptr;
    check(margin_account_new(engine.get(), "BTC", &raw_account), "account");
    Account account(raw_account);
    check(margin_account_set_equity(account.get(), 25.0), "equity");
    for (size_t i = 0; i < positions; i++) {
        const size_t id = btc[i * (btc.size() / positions)];
        const double size = (i % 2 ? -1.0 : 1.0) * static_cast<double>(1 + (i * 7) % 5) * 0.25;
        check(margin_account_set_position(account.get(), id, size), "position");
        std::printf("position %s %.17g\n", symbol_of(engine.get(), id).c_str(), size);
    }
    margin_result r{};
    check(margin_account_compute(account.get(), &r), "compute");
    print_result("account", r);
    size_t items = 0;
    check(margin_account_line_item_count(account.get(), &items), "items");
    for (size_t k = 0; k < items; k++) {
        char name[64];
        size_t n = 0;
        double v = 0;
        check(margin_account_line_item(account.get(), k, name, sizeof name, &n, &v), "item");
        std::printf("item %s %.17g\n", name, v);
    }

    std::uint64_t seed = 42;
    for (size_t i = 0; i < orders; i++) {
        const size_t id = btc[lcg(seed) % btc.size()];
        double size = (static_cast<double>(lcg(seed) % 9) - 4.0) * 0.5;
        if (size == 0.0) size = 0.5;
        const std::string sym = symbol_of(engine.get(), id);
        const margin_status s = margin_account_what_if(account.get(), id, size, &r);
        if (s != MARGIN_STATUS_OK) {
            std::printf("order %zu %s %.17g status=%d\n", i, sym.c_str(), size, static_cast<int>(s));
            continue;
        }
        char tag[128];
        std::snprintf(tag, sizeof tag, "order %zu %s %.17g", i, sym.c_str(), size);
        print_result(tag, r);
        if (r.health == MARGIN_HEALTH_HEALTHY) {
            check(margin_account_add_position(account.get(), id, size), "fill");
            std::printf("fill %zu\n", i);
        }
    }
    check(margin_account_compute(account.get(), &r), "compute");
    print_result("final", r);
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
