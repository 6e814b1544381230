// The C++ wrapper: every class, exceptions carrying status and message,
// the std::nothrow overloads, move-only ownership, callbacks that throw.
#include <agentsession.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace ags = agentsession;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

static bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

/// Runs `f`, which must throw ags::Error with `status`; returns its message.
template <class F> static std::string expect_error(ags_status status, F &&f) {
    try {
        f();
    } catch (const ags::Error &e) {
        if (e.status() != status) {
            std::fprintf(stderr, "expected status %d, got %d: %s\n", status, e.status(), e.what());
            std::exit(1);
        }
        return e.what();
    }
    std::fprintf(stderr, "expected status %d, nothing thrown\n", status);
    std::exit(1);
}

static std::string json_id(const std::string &json) {
    auto at = json.find("\"id\":\"");
    CHECK(at != std::string::npos);
    at += 6;
    return json.substr(at, json.find('"', at) - at);
}

// Ownership: move-only, nothrow moves.
static_assert(!std::is_copy_constructible_v<ags::Store>, "Store is move-only");
static_assert(!std::is_copy_assignable_v<ags::Recorder>, "Recorder is move-only");
static_assert(std::is_nothrow_move_constructible_v<ags::Player>, "Player moves without throwing");
static_assert(std::is_nothrow_move_constructible_v<ags::Queue>, "Queue moves without throwing");
static_assert(std::is_nothrow_move_assignable_v<ags::ActionButtons>, "ActionButtons moves without throwing");
static_assert(std::is_nothrow_move_constructible_v<ags::Search>, "Search moves without throwing");
static_assert(!std::is_copy_constructible_v<ags::Follow>, "Follow is move-only");
static_assert(!std::is_copy_constructible_v<ags::Lock>, "Lock is move-only");
static_assert(std::is_nothrow_move_constructible_v<ags::Lock>, "Lock moves without throwing");
static_assert(std::is_base_of_v<std::runtime_error, ags::Error>, "Error is a runtime_error");

static void store_and_errors(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    CHECK(store.base_dir() == base);
    CHECK(!store.is_batched() && !store.is_closed());
    std::string meta = store.create(R"({"session_id":"s","acp_server":"a","working_dir":"/w"})");
    CHECK(contains(meta, R"("session_id":"s")"));
    CHECK(store.append_event("s", "agent_message", R"({"text":"hi"})") == 1);
    CHECK(store.append_event("s", "agent_message", R"({"text":"at"})", "2026-02-01T12:00:00Z") == 2);
    CHECK(store.append_events("s", R"([{"type":"x","data":{}}])") == "[3]");
    CHECK(contains(store.events("s", 2), R"("seq":3)"));
    CHECK(contains(store.events_last("s", 1, 0, true), R"("seq":3)"));
    CHECK(contains(store.update_metadata("s", R"({"name":"N"})"), R"("name":"N")"));
    CHECK(contains(store.list(), R"("session_id":"s")"));
    CHECK(store.exists("s") && !store.exists("t"));
    CHECK(contains(store.session_dir("s"), "/s"));
    CHECK(contains(store.prune_if_needed("s", 2), R"("events_removed":1)"));
    const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
    std::string image = store.save_image("s", gif, sizeof gif);
    CHECK(contains(image, "image/gif"));
    CHECK(contains(store.image_path("s", json_id(image)), "/images/"));
    CHECK(store.image_data("s", json_id(image)) == std::vector<std::uint8_t>(gif, gif + sizeof gif));
    CHECK(store.location() == store.base_dir());
    CHECK(contains(store.list_images("s"), json_id(image)));
    store.delete_image("s", json_id(image));
    CHECK(store.cleanup_old_images(3600, 3600) == 0);
    store.flush();

    // Exceptions carry the status and the library's message.
    std::string msg = expect_error(AGS_SESSION_NOT_FOUND, [&] { store.metadata("missing"); });
    CHECK(contains(msg, "missing"));
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.exists("../x"); });
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.append_event("s", "x", "{bad json"); });
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.create("[]"); });
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.events("s\xff"); });
    expect_error(AGS_IMAGE_NOT_FOUND, [&] { store.image_path("s", "img_001_00000000.png"); });

    // The nothrow overloads.
    auto missing = store.metadata("missing", std::nothrow);
    CHECK(!missing.ok() && !missing && missing.status() == AGS_SESSION_NOT_FOUND);
    CHECK(contains(missing.message(), "missing"));
    expect_error(AGS_SESSION_NOT_FOUND, [&] { (void)missing.value(); });
    auto found = store.metadata("s", std::nothrow);
    CHECK(found.ok() && found.status() == AGS_OK && found.message().empty());
    CHECK(contains(found.value(), R"("name":"N")"));
    auto exists = store.exists("..", std::nothrow);
    CHECK(!exists && exists.status() == AGS_INVALID_ARGUMENT);
    auto seq = store.append_event("s", "agent_message", R"({"text":"x"})", std::nothrow);
    CHECK(seq.ok() && seq.value() == 3);
    auto opened = ags::Store::open(base, std::nothrow);
    CHECK(opened.ok());
    ags::Store second = std::move(opened).value();
    CHECK(second.exists("s"));

    // Moves transfer the handle.
    ags::Store moved = std::move(second);
    CHECK(moved.handle() != nullptr && second.handle() == nullptr);

    store.close();
    CHECK(store.is_closed());
    expect_error(AGS_STORE_CLOSED, [&] { store.list(); });
    auto closed = store.metadata("s", std::nothrow);
    CHECK(closed.status() == AGS_STORE_CLOSED);
    CHECK(moved.exists("s"));  // opened separately: still open

    auto batched = ags::Store::open_batched(base + "-batched");
    CHECK(batched.is_batched());
}

static void recorder_player(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    ags::Recorder rec(store, "conv");
    CHECK(rec.session_id() == "conv" && !rec.is_started());
    expect_error(AGS_INVALID_ARGUMENT, [&] { rec.record_agent_message("early"); });
    CHECK(contains(rec.start("agent", "/w", std::string("agent --acp")), "agent --acp"));
    CHECK(rec.record_user_prompt("Fix it", std::string(R"([{"id":"img_001_a.png","mime_type":"image/png"}])")) == 2);
    rec.record_agent_thought("hmm");
    rec.record_tool_call("c1", "Read", "pending", std::string("read"), std::string(R"({"path":"a"})"));
    rec.record_tool_call_update("c1", std::string("completed"));
    rec.record_plan(R"([{"id":"1","title":"t","status":"pending"}])");
    rec.record_permission("Write", "allow", "approved");
    rec.record_file_read("a", 1);
    rec.record_file_write("a", 2);
    rec.record_error("oops", 3);
    rec.record("ui_prompt_answer", "{}");
    CHECK(rec.record_agent_message("Done.") == 12);
    CHECK(rec.event_count() == 12);
    rec.suspend();
    CHECK(contains(rec.resume(), R"("event_count":12)"));
    rec.set_prune_limits(0, 0);
    rec.end("bye");
    ags::Recorder generated(store);
    CHECK(generated.session_id().size() == 24);

    ags::Player player(store, "conv");
    CHECK(player.len() == 13 && player.position() == 0 && player.has_next());
    CHECK(contains(*player.peek(), R"("type":"session_start")"));
    CHECK(contains(*player.next(), R"("seq":1,)"));
    player.seek(13);
    CHECK(!player.next().has_value() && !player.peek().has_value());
    expect_error(AGS_INVALID_ARGUMENT, [&] { player.seek(14); });
    player.reset();
    CHECK(player.position() == 0);
    CHECK(contains(player.events_of_type("tool_call"), R"("raw_input":{"path":"a"})"));
    CHECK(contains(player.metadata(), R"("status":"completed")"));
    CHECK(player.skipped() == "[]");
    std::string events = player.events();
    CHECK(contains(ags::build_conversation_history(events, 1), "USER: Fix it"));
    CHECK(ags::last_agent_message(events) == "Done.");
    expect_error(AGS_INVALID_ARGUMENT, [] { ags::last_agent_message("nope"); });
    expect_error(AGS_SESSION_NOT_FOUND, [&] { ags::Player(store, "absent"); });
}

static void queue_and_buttons(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    store.create(R"({"session_id":"q","acp_server":"a","working_dir":"/w"})");
    ags::Queue queue = store.queue("q");
    CHECK(queue.session_id() == "q" && contains(queue.path(), "queue.json"));
    CHECK(queue.is_empty());
    auto empty = queue.pop(std::nothrow);
    CHECK(!empty && empty.status() == AGS_QUEUE_EMPTY);
    expect_error(AGS_QUEUE_EMPTY, [&] { queue.pop(); });
    std::string a = json_id(queue.add("a"));
    std::string b = json_id(queue.add("b", std::string("[]"), std::string("cli"), 2));
    expect_error(AGS_QUEUE_FULL, [&] { queue.add("c", std::nullopt, std::nullopt, 2); });
    CHECK(queue.len() == 2);
    CHECK(contains(queue.get(b), R"("client_id":"cli")"));
    auto absent = queue.get("q-1-00000000", std::nothrow);
    CHECK(absent.status() == AGS_MESSAGE_NOT_FOUND);
    CHECK(contains(queue.update_title(a, "T"), R"("title":"T")"));
    std::string order = queue.move(b, "up");
    CHECK(order.find("\"b\"") < order.find("\"a\""));
    expect_error(AGS_INVALID_ARGUMENT, [&] { queue.move(b, "left"); });
    CHECK(contains(queue.pop(), "\"b\""));
    CHECK(contains(queue.remove(a), "\"a\""));
    CHECK(contains(queue.list(), "[]"));
    queue.add("c");
    queue.clear();
    queue.delete_file();
    ags::Queue moved = std::move(queue);
    CHECK(moved.len() == 0);

    ags::ActionButtons buttons = store.action_buttons("q");
    CHECK(buttons.session_id() == "q" && contains(buttons.path(), "action_buttons.json"));
    CHECK(buttons.is_empty());
    CHECK(contains(buttons.get(), R"("buttons":[])"));
    CHECK(contains(buttons.set(R"([{"label":"Go","response":"Do it"}])", 4), R"("for_event_seq":4)"));
    CHECK(!buttons.is_empty() && contains(buttons.get(), R"("label":"Go")"));
    expect_error(AGS_INVALID_ARGUMENT, [&] { buttons.set("{}"); });
    buttons.clear();
    CHECK(buttons.is_empty());
    buttons.delete_file();
}

static void search_and_follow(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    ags::Recorder rec(store, "f");
    rec.start("a", "/w");
    rec.record_user_prompt("find the needle");

    std::vector<std::size_t> progress;
    ags::Search search = store.search(R"({"text":"NEEDLE"})", [&](std::size_t done, std::size_t) {
        progress.push_back(done);
    });
    CHECK(search.session_count() >= 1);
    auto hit = search.next();
    CHECK(hit && contains(*hit, R"("session_id":"f")"));
    while (search.next()) {
    }
    CHECK(!progress.empty());
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.search(R"({"text":""})"); });

    // An exception thrown by the callback comes out of next(), not through C.
    ags::Search throwing = store.search(R"({"text":"needle"})", [](std::size_t, std::size_t) {
        throw std::logic_error("from the callback");
    });
    bool caught = false;
    try {
        while (throwing.next()) {
        }
    } catch (const std::logic_error &e) {
        caught = contains(e.what(), "from the callback");
    }
    CHECK(caught);

    ags::Follow follow = store.follow("f", 0, 5.0);
    std::thread writer([&] {
        rec.record_agent_message("found it");
        rec.end("done");
    });
    int seen = 0;
    while (auto ev = follow.next()) seen++;
    writer.join();
    CHECK(seen == 4);  // session_start, prompt, reply, session_end

    ags::Follow waiting = store.follow("f", 4, -1);
    std::thread stopper([&] { waiting.stop(); });
    stopper.join();
    CHECK(!waiting.next().has_value());
}

static void copy_store(const std::string &base) {
    ags::Store from = ags::Store::open(base + "/from");
    ags::Store to = ags::Store::open(base + "/to");
    ags::Recorder rec(from, "c");
    rec.start("a", "/w");
    rec.record_user_prompt("copy me");
    std::vector<std::size_t> progress;
    std::string report = ags::migrate(from, to, [&](std::size_t done, std::size_t) { progress.push_back(done); });
    CHECK(contains(report, R"("sessions_created":1,"events_copied":2,)"));
    CHECK(progress == std::vector<std::size_t>{1});
    CHECK(to.events("c") == from.events("c"));
    CHECK(contains(ags::migrate(from, to), R"("sessions_created":0,"events_copied":0,)"));

    // An exception thrown by the callback comes out of migrate(), not through C.
    bool caught = false;
    try {
        ags::migrate(from, to, [](std::size_t, std::size_t) { throw std::logic_error("from the callback"); });
    } catch (const std::logic_error &e) {
        caught = contains(e.what(), "from the callback");
    }
    CHECK(caught);
}

static void acp_and_auxiliary(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    ags::Recorder rec(store, "acp");
    rec.start("agent", "/work");
    rec.record_user_prompt("Hi");
    std::string note = R"({"sessionId":"a-1","update":{"sessionUpdate":"agent_message_chunk",)"
                       R"("content":{"type":"text","text":"Hello"}}})";
    CHECK(rec.record_acp_update(note) == R"({"seqs":[],"warnings":[]})");
    CHECK(rec.record_turn_end("end_turn") == "[3,4]");
    expect_error(AGS_INVALID_ARGUMENT, [&] { rec.record_acp_update("[]"); });
    store.append_event("acp", "usage", R"({"used":5,"size":10})");
    CHECK(contains(store.usage("acp"), R"("used":5)"));
    CHECK(contains(store.usage_summary(), R"("sessions":1)"));
    CHECK(contains(store.export_session("acp", "md"), "Hello"));
    CHECK(contains(store.export_session("acp", "html"), "<html"));
    expect_error(AGS_INVALID_ARGUMENT, [&] { store.export_session("acp", "pdf"); });

    ags::Player player(store, "acp");
    CHECK(contains(player.acp_updates(), R"("sessionUpdate":"agent_message_chunk")"));
    std::string init = R"({"protocolVersion":1,"agentCapabilities":{"loadSession":true}})";
    CHECK(contains(player.resume_plan(init), R"("method":"session/load")"));
    CHECK(contains(ags::resume_plan(player.metadata(), player.events(), R"({"protocolVersion":1})"),
                   R"("method":"session/new")"));

    expect_error(AGS_AUXILIARY_NOT_INITIALIZED, [] { ags::auxiliary::prompt("hi", 5); });
    CHECK(ags::auxiliary::default_timeout() == 30.0);
    CHECK(!ags::auxiliary::is_started() && ags::auxiliary::pid() == 0);
    expect_error(AGS_INVALID_ARGUMENT, [] { ags::auxiliary::initialize(""); });
    const char *peer = std::getenv("AGS_TEST_PEER");
    if (peer != nullptr && *peer != '\0') {
        ags::auxiliary::initialize(peer, base);
        ags::auxiliary::set_default_timeout(20);
        CHECK(ags::auxiliary::prompt("@@reply:from C++@@", 20) == "from C++");
        CHECK(ags::auxiliary::is_started() && ags::auxiliary::pid() > 0);
        CHECK(ags::auxiliary::improve_prompt("@@reply:Better.@@") == "Better.");
        CHECK(ags::auxiliary::generate_queued_message_title("@@reply:Short@@") == "Short");
        CHECK(!ags::auxiliary::generate_title("Title: \"fix the parser\"").empty());
        CHECK(ags::auxiliary::analyze_follow_up_questions("@@reply:[]@@") == "[]");
        store.create(R"({"session_id":"q","acp_server":"a","working_dir":"/w"})");
        ags::Queue queue = store.queue("q");
        CHECK(ags::auxiliary::request_queued_message_title(queue, json_id(queue.add("@@reply:T@@"))));
        ags::auxiliary::shutdown();
        CHECK(!ags::auxiliary::is_started());
    }
}

static void locks(const std::string &base) {
    ags::Store store = ags::Store::open(base);
    store.create(R"({"session_id":"l","acp_server":"a","working_dir":"/w"})");
    ags::configure(0.05, 2.0);
    CHECK(ags::settings().first == 0.05 && ags::settings().second == 2.0);
    expect_error(AGS_INVALID_ARGUMENT, [] { ags::configure(0, 1); });
    std::atomic<int> stolen{0};
    {
        ags::Lock lock = store.try_acquire_lock("l", "cli");
        CHECK(lock.session_id() == "l" && lock.instance_id().size() == 16);
        CHECK(contains(lock.info(), R"("client_type":"cli")"));
        CHECK(store.is_locked("l") && ags::active_lock_count() == 1);
        CHECK(contains(store.lock_info("l"), lock.instance_id()));
        auto refused = store.try_acquire_lock("l", "web", std::nothrow);
        CHECK(!refused && refused.status() == AGS_SESSION_LOCKED);
        lock.set_processing("busy");
        CHECK(contains(store.check_lock_status("l"), R"("state":"processing")"));
        expect_error(AGS_SESSION_PROCESSING, [&] { store.force_acquire_lock("l", "web"); });
        lock.set_waiting_permission("ok?");
        auto waiting = store.force_acquire_lock("l", "web", std::nothrow);
        CHECK(waiting.status() == AGS_WAITING_FOR_PERMISSION);
        lock.on_stolen([&] { stolen++; });
        ags::Lock taker = store.force_interrupt_lock("l", "ide");
        CHECK(!lock.is_valid() && taker.is_valid());
        expect_error(AGS_LOCK_NOT_HELD, [&] { lock.set_idle(); });
        lock.release();
        taker.set_idle();
        ags::Lock forced = store.force_acquire_lock("l", "web");
        CHECK(!taker.is_valid());
        ags::Lock moved = std::move(forced);
        CHECK(moved.is_valid() && forced.handle() == nullptr);
    }
    CHECK(stolen == 1);
    CHECK(!store.is_locked("l") && ags::active_lock_count() == 0);
    ags::Lock again = store.try_acquire_lock("l", "cli");
    CHECK(ags::cleanup_all_locks() == 1 && !again.is_valid());
    CHECK(contains(ags::heartbeat_stats(), R"("heartbeats":)"));
    ags::reset_heartbeat_stats();
    ags::shutdown();
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    CHECK(!ags::version().empty());
    store_and_errors(dir + "/store");
    recorder_player(dir + "/rec");
    queue_and_buttons(dir + "/queue");
    search_and_follow(dir + "/insight");
    copy_store(dir + "/copy");
    acp_and_auxiliary(dir + "/acp");
    locks(dir + "/locks");
    std::printf("test_wrapper: ok\n");
    return 0;
}
