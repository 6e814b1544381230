/*
 * agentsession: header-only C++17 wrapper of the C API (agentsession.h).
 * SPDX-License-Identifier: Apache-2.0
 *
 * - Each class owns one handle (move-only; the destructor frees it).
 * - A failed call throws agentsession::Error, which carries the ags_status and
 *   the library's message. Calls whose failure is an ordinary outcome (a
 *   missing session, an empty queue, a taken lock...) also have a noexcept
 *   overload taking std::nothrow that returns a Result<T> instead.
 * - Structured values are JSON text (std::string), exactly as in the C API.
 * - Thread safety is that of the C handles: every class may be used from
 *   several threads at once; moving or destroying one must not race with use.
 */
#ifndef AGENTSESSION_HPP
#define AGENTSESSION_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "agentsession.h"

namespace agentsession {

/// The library's version, e.g. "0.1.0".
inline std::string version() { return ags_version(); }

/// A failed call: its status code and the library's description.
class Error : public std::runtime_error {
public:
    Error(ags_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}

    /// The status the C call returned.
    ags_status status() const noexcept { return status_; }

private:
    ags_status status_;
};

namespace detail {

/// The description of the failure just returned on this thread.
inline std::string failure_message(ags_status status) {
    const char *message = ags_last_error();
    return message != nullptr ? message : ags_status_message(static_cast<int>(status));
}

/// Throws Error for a failed status.
inline void check(ags_status status) {
    if (status != AGS_OK) throw Error(status, failure_message(status));
}

/// Frees library strings.
struct StringFree {
    void operator()(char *s) const noexcept { ags_string_free(s); }
};

/// Takes ownership of a string the library returned (NULL gives "").
inline std::string take(char *s) {
    std::unique_ptr<char, StringFree> owned(s);
    return s != nullptr ? std::string(s) : std::string();
}

/// Takes ownership of a string that may be NULL ("no value").
inline std::optional<std::string> take_optional(char *s) {
    if (s == nullptr) return std::nullopt;
    return take(s);
}

/// NULL for an absent optional string.
inline const char *c_str(const std::optional<std::string> &s) noexcept {
    return s ? s->c_str() : nullptr;
}

/// Calls `call(&out)` for a string out-parameter; throws on failure.
template <class Call> std::string string_out(Call &&call) {
    char *out = nullptr;
    check(call(&out));
    return take(out);
}

/// Calls `call(&out)` for a plain out-parameter; throws on failure.
template <class T, class Call> T value_out(Call &&call) {
    T out{};
    check(call(&out));
    return out;
}

/// Deletes a handle with its _free function.
template <class T, void (*Free)(T *)> struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};

/// A move-only owner of a handle.
template <class T, void (*Free)(T *)> using Owner = std::unique_ptr<T, Deleter<T, Free>>;

}  // namespace detail

/// Either a value or the status and message of a failed call; never throws
/// except from value() on a failure.
template <class T> class [[nodiscard]] Result {
public:
    /// A success.
    static Result success(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
        Result r;
        r.value_.emplace(std::move(value));
        return r;
    }

    /// The failure just returned on this thread.
    static Result failure(ags_status status) {
        Result r;
        r.status_ = status;
        r.message_ = detail::failure_message(status);
        return r;
    }

    /// Whether the call succeeded.
    bool ok() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return ok(); }

    /// The status (AGS_OK on success).
    ags_status status() const noexcept { return status_; }

    /// The failure's message ("" on success).
    const std::string &message() const noexcept { return message_; }

    /// The value; throws Error on a failure.
    T &value() & {
        if (!ok()) throw Error(status_, message_);
        return *value_;
    }
    const T &value() const & {
        if (!ok()) throw Error(status_, message_);
        return *value_;
    }
    T &&value() && {
        if (!ok()) throw Error(status_, message_);
        return std::move(*value_);
    }

private:
    Result() = default;
    std::optional<T> value_;
    ags_status status_ = AGS_OK;
    std::string message_;
};

namespace detail {

/// Calls `call(&out)` for a string out-parameter without throwing Error.
template <class Call> Result<std::string> try_string_out(Call &&call) noexcept {
    char *out = nullptr;
    ags_status status = call(&out);
    if (status != AGS_OK) return Result<std::string>::failure(status);
    return Result<std::string>::success(take(out));
}

/// Calls `call(&out)` for a plain out-parameter without throwing Error.
template <class T, class Call> Result<T> try_value_out(Call &&call) noexcept {
    T out{};
    ags_status status = call(&out);
    if (status != AGS_OK) return Result<T>::failure(status);
    return Result<T>::success(out);
}

/// A progress callback (sessions done, total) and what it threw: callbacks
/// must not unwind into C, so the first exception is kept for the caller to
/// rethrow, and the callback is not called again.
struct Progress {
    std::function<void(std::size_t, std::size_t)> call;
    std::exception_ptr error;

    static void trampoline(std::size_t done, std::size_t total, void *user_data) noexcept {
        auto *self = static_cast<Progress *>(user_data);
        if (self->error) return;
        try {
            self->call(done, total);
        } catch (...) {
            self->error = std::current_exception();
        }
    }
};

}  // namespace detail

class Lock;
class Queue;
class ActionButtons;
class Search;
class Follow;

/// A store of sessions under a base directory (ags_store).
class Store {
public:
    /// Opens (creating if missing) the store at `path`.
    static Store open(const std::string &path) {
        return Store(detail::value_out<ags_store *>(
            [&](ags_store **out) { return ags_store_open(path.c_str(), out); }));
    }
    /// Opens the store at `path` without throwing.
    static Result<Store> open(const std::string &path, std::nothrow_t) noexcept {
        ags_store *out = nullptr;
        ags_status status = ags_store_open(path.c_str(), &out);
        if (status != AGS_OK) return Result<Store>::failure(status);
        return Result<Store>::success(Store(out));
    }
    /// Opens the store at `path` in batched mode (metadata written on flush).
    static Store open_batched(const std::string &path) {
        return Store(detail::value_out<ags_store *>(
            [&](ags_store **out) { return ags_store_open_batched(path.c_str(), out); }));
    }
    /// Opens the default store ($AGENTSESSION_DIR or the platform data dir).
    static Store open_default() { return Store(detail::value_out<ags_store *>(ags_store_open_default)); }
    /// Opens the mitto client's store.
    static Store open_mitto() { return Store(detail::value_out<ags_store *>(ags_store_open_mitto)); }
    /// The directory open_default() opens.
    static std::string default_dir() { return detail::string_out(ags_store_default_dir); }
    /// The directory open_mitto() opens.
    static std::string mitto_dir() { return detail::string_out(ags_store_mitto_dir); }

    /// The C handle (owned by this object).
    const ags_store *handle() const noexcept { return handle_.get(); }

    /// Where the store lives: its directory, or its URL without the password.
    std::string location() const {
        return detail::string_out([&](char **out) { return ags_store_location(handle(), out); });
    }
    /// The base directory of a filesystem store (a server store has none).
    std::string base_dir() const {
        return detail::string_out([&](char **out) { return ags_store_base_dir(handle(), out); });
    }
    /// The directory of a session.
    std::string session_dir(const std::string &id) const {
        return detail::string_out(
            [&](char **out) { return ags_store_session_dir(handle(), id.c_str(), out); });
    }
    /// Whether metadata writes are batched.
    bool is_batched() const {
        return detail::value_out<bool>([&](bool *out) { return ags_store_is_batched(handle(), out); });
    }
    /// Whether close() was called (through any handle).
    bool is_closed() const {
        return detail::value_out<bool>([&](bool *out) { return ags_store_is_closed(handle(), out); });
    }

    /// Creates a session from an options object; returns its metadata.
    std::string create(const std::string &options_json) const {
        return detail::string_out(
            [&](char **out) { return ags_store_create(handle(), options_json.c_str(), out); });
    }
    /// Appends one event (timestamp "" = now); returns its seq.
    std::uint64_t append_event(const std::string &id, const std::string &type,
                               const std::string &data_json,
                               const std::string &timestamp = std::string()) const {
        return detail::value_out<std::uint64_t>([&](std::uint64_t *out) {
            return ags_store_append_event(handle(), id.c_str(), type.c_str(), data_json.c_str(),
                                          timestamp.empty() ? nullptr : timestamp.c_str(), out);
        });
    }
    /// append_event without throwing.
    Result<std::uint64_t> append_event(const std::string &id, const std::string &type,
                                       const std::string &data_json, std::nothrow_t) const noexcept {
        return detail::try_value_out<std::uint64_t>([&](std::uint64_t *out) {
            return ags_store_append_event(handle(), id.c_str(), type.c_str(), data_json.c_str(), nullptr,
                                          out);
        });
    }
    /// Appends an array of {"type","data","timestamp"?}; returns the seqs as JSON.
    std::string append_events(const std::string &id, const std::string &events_json) const {
        return detail::string_out([&](char **out) {
            return ags_store_append_events(handle(), id.c_str(), events_json.c_str(), out);
        });
    }
    /// The session's metadata object.
    std::string metadata(const std::string &id) const {
        return detail::string_out([&](char **out) { return ags_store_metadata(handle(), id.c_str(), out); });
    }
    /// metadata without throwing (e.g. AGS_SESSION_NOT_FOUND).
    Result<std::string> metadata(const std::string &id, std::nothrow_t) const noexcept {
        return detail::try_string_out(
            [&](char **out) { return ags_store_metadata(handle(), id.c_str(), out); });
    }
    /// Changes metadata fields; returns the new metadata.
    std::string update_metadata(const std::string &id, const std::string &fields_json) const {
        return detail::string_out([&](char **out) {
            return ags_store_update_metadata(handle(), id.c_str(), fields_json.c_str(), out);
        });
    }
    /// Events with seq > after_seq as a JSON array (strict: corrupt lines fail).
    std::string events(const std::string &id, std::uint64_t after_seq = 0, bool strict = false) const {
        return detail::string_out(
            [&](char **out) { return ags_store_events(handle(), id.c_str(), after_seq, strict, out); });
    }
    /// The last `limit` events with seq < before_seq (0 = no bound).
    std::string events_last(const std::string &id, std::size_t limit, std::uint64_t before_seq = 0,
                            bool reverse = false) const {
        return detail::string_out([&](char **out) {
            return ags_store_events_last(handle(), id.c_str(), limit, before_seq, reverse, out);
        });
    }
    /// Every session's metadata as a JSON array.
    std::string list() const {
        return detail::string_out([&](char **out) { return ags_store_list(handle(), out); });
    }
    /// Whether the session exists.
    bool exists(const std::string &id) const {
        return detail::value_out<bool>(
            [&](bool *out) { return ags_store_exists(handle(), id.c_str(), out); });
    }
    /// exists without throwing (e.g. AGS_INVALID_ARGUMENT for a bad id).
    Result<bool> exists(const std::string &id, std::nothrow_t) const noexcept {
        return detail::try_value_out<bool>(
            [&](bool *out) { return ags_store_exists(handle(), id.c_str(), out); });
    }
    /// Deletes a session and its files.
    void delete_session(const std::string &id) const { detail::check(ags_store_delete(handle(), id.c_str())); }
    /// Writes what batched mode deferred.
    void flush() const { detail::check(ags_store_flush(handle())); }
    /// Closes the store for every handle.
    void close() const { detail::check(ags_store_close(handle())); }

    /// Saves an image; returns its record as JSON.
    std::string save_image(const std::string &id, const void *data, std::size_t len,
                           const std::string &mime_type = std::string(),
                           const std::string &name = std::string()) const {
        return detail::string_out([&](char **out) {
            return ags_store_save_image(handle(), id.c_str(), static_cast<const std::uint8_t *>(data), len,
                                        mime_type.c_str(), name.empty() ? nullptr : name.c_str(), out);
        });
    }
    /// The bytes of a stored image.
    std::vector<std::uint8_t> image_data(const std::string &id, const std::string &image_id) const {
        std::uint8_t *data = nullptr;
        std::size_t len = 0;
        detail::check(ags_store_image_data(handle(), id.c_str(), image_id.c_str(), &data, &len));
        std::vector<std::uint8_t> bytes(data, data + len);
        ags_bytes_free(data, len);
        return bytes;
    }
    /// The path of a stored image of a filesystem store.
    std::string image_path(const std::string &id, const std::string &image_id) const {
        return detail::string_out([&](char **out) {
            return ags_store_image_path(handle(), id.c_str(), image_id.c_str(), out);
        });
    }
    /// The session's images as a JSON array.
    std::string list_images(const std::string &id) const {
        return detail::string_out(
            [&](char **out) { return ags_store_list_images(handle(), id.c_str(), out); });
    }
    /// Deletes a stored image.
    void delete_image(const std::string &id, const std::string &image_id) const {
        detail::check(ags_store_delete_image(handle(), id.c_str(), image_id.c_str()));
    }
    /// Removes old images of inactive sessions; returns how many.
    std::size_t cleanup_old_images(double max_age_s, double preserve_recent_s) const {
        return detail::value_out<std::size_t>([&](std::size_t *out) {
            return ags_store_cleanup_old_images(handle(), max_age_s, preserve_recent_s, out);
        });
    }
    /// Prunes a session over its limits; returns what was removed, or "null".
    std::string prune_if_needed(const std::string &id, std::size_t max_messages,
                                std::uint64_t max_size_bytes = 0) const {
        return detail::string_out([&](char **out) {
            return ags_store_prune_if_needed(handle(), id.c_str(), max_messages, max_size_bytes, out);
        });
    }

    /// One session as "md" (Markdown) or "html".
    std::string export_session(const std::string &id, const std::string &format) const {
        return detail::string_out([&](char **out) {
            return ags_store_export(handle(), id.c_str(), format.c_str(), out);
        });
    }
    /// The usage the agent reported in a session, as JSON.
    std::string usage(const std::string &id) const {
        return detail::string_out([&](char **out) { return ags_store_usage(handle(), id.c_str(), out); });
    }
    /// The usage of all sessions (total, by day, by agent, per session), as JSON.
    std::string usage_summary() const {
        return detail::string_out([&](char **out) { return ags_store_usage_summary(handle(), out); });
    }

    /// Takes the session's lock unless a live holder has it (AGS_SESSION_LOCKED).
    Lock try_acquire_lock(const std::string &id, const std::string &client_type) const;
    /// try_acquire_lock without throwing (a taken lock is an ordinary outcome).
    Result<Lock> try_acquire_lock(const std::string &id, const std::string &client_type,
                                  std::nothrow_t) const noexcept;
    /// Also takes the lock from an idle holder.
    Lock force_acquire_lock(const std::string &id, const std::string &client_type) const;
    /// force_acquire_lock without throwing.
    Result<Lock> force_acquire_lock(const std::string &id, const std::string &client_type,
                                    std::nothrow_t) const noexcept;
    /// Takes the lock whatever the holder is doing.
    Lock force_interrupt_lock(const std::string &id, const std::string &client_type) const;
    /// The session's .lock as JSON, or "null".
    std::string lock_info(const std::string &id) const {
        return detail::string_out([&](char **out) { return ags_store_lock_info(handle(), id.c_str(), out); });
    }
    /// Whether a live holder has the session.
    bool is_locked(const std::string &id) const {
        return detail::value_out<bool>(
            [&](bool *out) { return ags_store_is_locked(handle(), id.c_str(), out); });
    }
    /// Where the lock stands, what each acquisition would do, and why (JSON).
    std::string check_lock_status(const std::string &id) const {
        return detail::string_out(
            [&](char **out) { return ags_store_check_lock_status(handle(), id.c_str(), out); });
    }

    /// The message queue of a session.
    Queue queue(const std::string &id) const;
    /// The follow-up suggestions of a session.
    ActionButtons action_buttons(const std::string &id) const;
    /// Searches every session; `progress` (may be empty) is called with
    /// (sessions done, total) on the thread calling Search::next.
    Search search(const std::string &query_json,
                  std::function<void(std::size_t, std::size_t)> progress = {}) const;
    /// Follows a session (idle_timeout_s < 0: wait forever).
    Follow follow(const std::string &id, std::uint64_t after_seq = 0, double idle_timeout_s = -1) const;

private:
    using AcquireFn = ags_status (*)(const ags_store *, const char *, const char *, ags_lock **);
    Result<Lock> acquire(AcquireFn how, const std::string &id, const std::string &client_type) const noexcept;
    explicit Store(ags_store *handle) noexcept : handle_(handle) {}
    detail::Owner<ags_store, ags_store_free> handle_;
};

/// Records one session (ags_recorder).
class Recorder {
public:
    /// A recorder for `session_id` of `store`, or for a new session with a
    /// generated id when `session_id` is empty.
    explicit Recorder(const Store &store, const std::string &session_id = std::string())
        : handle_(detail::value_out<ags_recorder *>([&](ags_recorder **out) {
              return ags_recorder_new(store.handle(), session_id.empty() ? nullptr : session_id.c_str(),
                                      out);
          })) {}

    /// The C handle (owned by this object).
    const ags_recorder *handle() const noexcept { return handle_.get(); }

    /// The session id.
    std::string session_id() const {
        return detail::string_out([&](char **out) { return ags_recorder_session_id(handle(), out); });
    }
    /// Whether recording is on.
    bool is_started() const {
        return detail::value_out<bool>([&](bool *out) { return ags_recorder_is_started(handle(), out); });
    }
    /// Limits applied after each append (0 = none).
    void set_prune_limits(std::size_t max_messages, std::uint64_t max_size_bytes = 0) const {
        detail::check(ags_recorder_set_prune_limits(handle(), max_messages, max_size_bytes));
    }
    /// Creates the session and records session_start; returns the metadata.
    std::string start(const std::string &acp_server, const std::string &working_dir,
                      const std::optional<std::string> &acp_command = std::nullopt) const {
        return detail::string_out([&](char **out) {
            return ags_recorder_start(handle(), acp_server.c_str(), working_dir.c_str(),
                                      detail::c_str(acp_command), out);
        });
    }
    /// Continues an existing session; returns its metadata.
    std::string resume() const {
        return detail::string_out([&](char **out) { return ags_recorder_resume(handle(), out); });
    }
    /// Stops recording without ending the session.
    void suspend() const { detail::check(ags_recorder_suspend(handle())); }
    /// Records session_end and marks the session completed.
    void end(const std::string &reason) const { detail::check(ags_recorder_end(handle(), reason.c_str())); }
    /// Number of events in the session.
    std::uint64_t event_count() const {
        return detail::value_out<std::uint64_t>(
            [&](std::uint64_t *out) { return ags_recorder_event_count(handle(), out); });
    }

    /// Records an event of any type; returns its seq.
    std::uint64_t record(const std::string &type, const std::string &data_json) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record(handle(), type.c_str(), data_json.c_str(), out);
        });
    }
    /// Records a user prompt; `images_json` is an array of image references.
    std::uint64_t record_user_prompt(const std::string &message,
                                     const std::optional<std::string> &images_json = std::nullopt) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_user_prompt(handle(), message.c_str(), detail::c_str(images_json), out);
        });
    }
    /// Records reply text of the agent.
    std::uint64_t record_agent_message(const std::string &text) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_agent_message(handle(), text.c_str(), out);
        });
    }
    /// Records the agent's reasoning text.
    std::uint64_t record_agent_thought(const std::string &text) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_agent_thought(handle(), text.c_str(), out);
        });
    }
    /// Records a tool call; the raw values are JSON text.
    std::uint64_t record_tool_call(const std::string &tool_call_id, const std::string &title,
                                   const std::string &status,
                                   const std::optional<std::string> &kind = std::nullopt,
                                   const std::optional<std::string> &raw_input_json = std::nullopt,
                                   const std::optional<std::string> &raw_output_json = std::nullopt) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_tool_call(handle(), tool_call_id.c_str(), title.c_str(), status.c_str(),
                                                 detail::c_str(kind), detail::c_str(raw_input_json),
                                                 detail::c_str(raw_output_json), out);
        });
    }
    /// Records a change to a tool call (absent fields unchanged).
    std::uint64_t record_tool_call_update(const std::string &tool_call_id,
                                          const std::optional<std::string> &status = std::nullopt,
                                          const std::optional<std::string> &title = std::nullopt) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_tool_call_update(handle(), tool_call_id.c_str(), detail::c_str(status),
                                                        detail::c_str(title), out);
        });
    }
    /// Records the agent's plan (a JSON array of entries).
    std::uint64_t record_plan(const std::string &entries_json) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_plan(handle(), entries_json.c_str(), out);
        });
    }
    /// Records a permission request and its outcome.
    std::uint64_t record_permission(const std::string &title, const std::string &selected_option,
                                    const std::string &outcome) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_permission(handle(), title.c_str(), selected_option.c_str(),
                                                  outcome.c_str(), out);
        });
    }
    /// Records that the agent read a file.
    std::uint64_t record_file_read(const std::string &path, std::int64_t size) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_file_read(handle(), path.c_str(), size, out);
        });
    }
    /// Records that the agent wrote a file.
    std::uint64_t record_file_write(const std::string &path, std::int64_t size) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_file_write(handle(), path.c_str(), size, out);
        });
    }
    /// Records an error (code 0 = none).
    std::uint64_t record_error(const std::string &message, std::int64_t code = 0) const {
        return seq([&](std::uint64_t *out) {
            return ags_recorder_record_error(handle(), message.c_str(), code, out);
        });
    }

    /// Records one ACP session/update notification (JSON text); returns
    /// {"seqs":[...],"warnings":[...]}.
    std::string record_acp_update(const std::string &notification_json) const {
        return detail::string_out([&](char **out) {
            return ags_recorder_record_acp_update(handle(), notification_json.c_str(), out);
        });
    }
    /// Ends a prompt turn with the agent's stop reason; returns the seqs written as JSON.
    std::string record_turn_end(const std::string &stop_reason) const {
        return detail::string_out([&](char **out) {
            return ags_recorder_record_turn_end(handle(), stop_reason.c_str(), out);
        });
    }

private:
    template <class Call> static std::uint64_t seq(Call &&call) {
        return detail::value_out<std::uint64_t>(std::forward<Call>(call));
    }
    detail::Owner<ags_recorder, ags_recorder_free> handle_;
};

/// Read-only playback of one session (ags_player).
class Player {
public:
    /// Loads a session for playback.
    Player(const Store &store, const std::string &session_id)
        : handle_(detail::value_out<ags_player *>([&](ags_player **out) {
              return ags_player_open(store.handle(), session_id.c_str(), out);
          })) {}

    /// The C handle (owned by this object).
    const ags_player *handle() const noexcept { return handle_.get(); }

    /// Number of events.
    std::size_t len() const {
        return detail::value_out<std::size_t>([&](std::size_t *out) { return ags_player_len(handle(), out); });
    }
    /// Index of the event next() returns.
    std::size_t position() const {
        return detail::value_out<std::size_t>(
            [&](std::size_t *out) { return ags_player_position(handle(), out); });
    }
    /// Whether next() has an event.
    bool has_next() const {
        return detail::value_out<bool>([&](bool *out) { return ags_player_has_next(handle(), out); });
    }
    /// The next event, advancing; nullopt at the end.
    std::optional<std::string> next() const { return optional_event(ags_player_next); }
    /// The next event without advancing; nullopt at the end.
    std::optional<std::string> peek() const { return optional_event(ags_player_peek); }
    /// Back to the first event.
    void reset() const { detail::check(ags_player_reset(handle())); }
    /// Moves to `position` (0..len()).
    void seek(std::size_t position) const { detail::check(ags_player_seek(handle(), position)); }
    /// Every event as a JSON array.
    std::string events() const {
        return detail::string_out([&](char **out) { return ags_player_events(handle(), out); });
    }
    /// The events of one type as a JSON array.
    std::string events_of_type(const std::string &type) const {
        return detail::string_out(
            [&](char **out) { return ags_player_events_of_type(handle(), type.c_str(), out); });
    }
    /// The metadata as of opening.
    std::string metadata() const {
        return detail::string_out([&](char **out) { return ags_player_metadata(handle(), out); });
    }
    /// The lines skipped as corrupt, as a JSON array.
    std::string skipped() const {
        return detail::string_out([&](char **out) { return ags_player_skipped(handle(), out); });
    }

    /// The session as session/update notifications (a JSON array).
    std::string acp_updates() const {
        return detail::string_out([&](char **out) { return ags_player_acp_updates(handle(), out); });
    }
    /// How to continue the session with an agent that answered initialize so.
    std::string resume_plan(const std::string &initialize_response_json) const {
        return detail::string_out([&](char **out) {
            return ags_player_resume_plan(handle(), initialize_response_json.c_str(), out);
        });
    }

private:
    std::optional<std::string> optional_event(ags_status (*call)(const ags_player *, char **)) const {
        char *out = nullptr;
        detail::check(call(handle(), &out));
        return detail::take_optional(out);
    }
    detail::Owner<ags_player, ags_player_free> handle_;
};

/// The conversation as text to re-prime a resumed agent.
inline std::string build_conversation_history(const std::string &events_json, std::size_t max_turns = 0) {
    return detail::string_out([&](char **out) {
        return ags_build_conversation_history(events_json.c_str(), max_turns, out);
    });
}

/// The agent's reply to the last prompt.
inline std::string last_agent_message(const std::string &events_json) {
    return detail::string_out(
        [&](char **out) { return ags_last_agent_message(events_json.c_str(), out); });
}

/// How to continue a session given as metadata and events JSON.
inline std::string resume_plan(const std::string &metadata_json, const std::string &events_json,
                               const std::string &initialize_response_json) {
    return detail::string_out([&](char **out) {
        return ags_resume_plan(metadata_json.c_str(), events_json.c_str(),
                               initialize_response_json.c_str(), out);
    });
}

/// A held session lock (ags_lock); destroying it releases the lock.
class Lock {
public:
    /// The C handle (owned by this object).
    const ags_lock *handle() const noexcept { return handle_.get(); }

    /// The locked session.
    std::string session_id() const {
        return detail::string_out([&](char **out) { return ags_lock_session_id(handle(), out); });
    }
    /// The random id of this acquisition.
    std::string instance_id() const {
        return detail::string_out([&](char **out) { return ags_lock_instance_id(handle(), out); });
    }
    /// The lock file as this handle last wrote it (JSON).
    std::string info() const {
        return detail::string_out([&](char **out) { return ags_lock_info(handle(), out); });
    }
    /// Marks the session as processing, with a detail.
    void set_processing(const std::string &message) const {
        detail::check(ags_lock_set_processing(handle(), message.c_str()));
    }
    /// Marks the session as idle.
    void set_idle() const { detail::check(ags_lock_set_idle(handle())); }
    /// Marks the session as waiting for a permission answer, with a detail.
    void set_waiting_permission(const std::string &message) const {
        detail::check(ags_lock_set_waiting_permission(handle(), message.c_str()));
    }
    /// Releases the lock (again: nothing happens).
    void release() const { detail::check(ags_lock_release(handle())); }
    /// Whether this handle still owns the lock.
    bool is_valid() const {
        return detail::value_out<bool>([&](bool *out) { return ags_lock_is_valid(handle(), out); });
    }
    /// Runs `callback` once (maybe on the heartbeat thread) when the lock is
    /// found stolen; an empty function removes it. It must not throw
    /// (std::terminate otherwise).
    void on_stolen(std::function<void()> callback) {
        if (!callback) {
            detail::check(ags_lock_on_stolen(handle(), nullptr, nullptr));
            stolen_.reset();
            return;
        }
        auto fresh = std::make_unique<std::function<void()>>(std::move(callback));
        detail::check(ags_lock_on_stolen(handle(), &Lock::trampoline, fresh.get()));
        stolen_ = std::move(fresh);
    }

private:
    friend class Store;
    explicit Lock(ags_lock *handle) noexcept : handle_(handle) {}
    static void trampoline(const char *, void *user_data) noexcept {
        (*static_cast<std::function<void()> *>(user_data))();
    }
    // Declared first so the handle (and its callback) goes before the function.
    std::unique_ptr<std::function<void()>> stolen_;
    detail::Owner<ags_lock, ags_lock_free> handle_;
};

/// The message queue of one session (ags_queue).
class Queue {
public:
    /// The C handle (owned by this object).
    const ags_queue *handle() const noexcept { return handle_.get(); }

    /// The session the queue belongs to.
    std::string session_id() const {
        return detail::string_out([&](char **out) { return ags_queue_session_id(handle(), out); });
    }
    /// The path of queue.json.
    std::string path() const {
        return detail::string_out([&](char **out) { return ags_queue_path(handle(), out); });
    }
    /// Appends a message; returns it as stored.
    std::string add(const std::string &message,
                    const std::optional<std::string> &image_ids_json = std::nullopt,
                    const std::optional<std::string> &client_id = std::nullopt,
                    std::size_t max_size = AGS_QUEUE_DEFAULT_MAX_SIZE) const {
        return detail::string_out([&](char **out) {
            return ags_queue_add(handle(), message.c_str(), detail::c_str(image_ids_json),
                                 detail::c_str(client_id), max_size, out);
        });
    }
    /// Every queued message as a JSON array.
    std::string list() const {
        return detail::string_out([&](char **out) { return ags_queue_list(handle(), out); });
    }
    /// One message.
    std::string get(const std::string &message_id) const {
        return detail::string_out(
            [&](char **out) { return ags_queue_get(handle(), message_id.c_str(), out); });
    }
    /// One message without throwing (e.g. AGS_MESSAGE_NOT_FOUND).
    Result<std::string> get(const std::string &message_id, std::nothrow_t) const noexcept {
        return detail::try_string_out(
            [&](char **out) { return ags_queue_get(handle(), message_id.c_str(), out); });
    }
    /// Removes one message; returns it.
    std::string remove(const std::string &message_id) const {
        return detail::string_out(
            [&](char **out) { return ags_queue_remove(handle(), message_id.c_str(), out); });
    }
    /// Removes and returns the front message.
    std::string pop() const {
        return detail::string_out([&](char **out) { return ags_queue_pop(handle(), out); });
    }
    /// pop without throwing (AGS_QUEUE_EMPTY when empty).
    Result<std::string> pop(std::nothrow_t) const noexcept {
        return detail::try_string_out([&](char **out) { return ags_queue_pop(handle(), out); });
    }
    /// Removes every message.
    void clear() const { detail::check(ags_queue_clear(handle())); }
    /// Number of queued messages.
    std::size_t len() const {
        return detail::value_out<std::size_t>([&](std::size_t *out) { return ags_queue_len(handle(), out); });
    }
    /// Whether no message is queued.
    bool is_empty() const {
        return detail::value_out<bool>([&](bool *out) { return ags_queue_is_empty(handle(), out); });
    }
    /// Sets a message's title ("" removes it); returns the message.
    std::string update_title(const std::string &message_id, const std::string &title) const {
        return detail::string_out([&](char **out) {
            return ags_queue_update_title(handle(), message_id.c_str(), title.c_str(), out);
        });
    }
    /// Moves a message "up" or "down"; returns the new order.
    std::string move(const std::string &message_id, const std::string &direction) const {
        return detail::string_out([&](char **out) {
            return ags_queue_move(handle(), message_id.c_str(), direction.c_str(), out);
        });
    }
    /// Removes queue.json.
    void delete_file() const { detail::check(ags_queue_delete(handle())); }

private:
    friend class Store;
    explicit Queue(ags_queue *handle) noexcept : handle_(handle) {}
    detail::Owner<ags_queue, ags_queue_free> handle_;
};

/// The follow-up suggestions of one session (ags_action_buttons).
class ActionButtons {
public:
    /// The C handle (owned by this object).
    const ags_action_buttons *handle() const noexcept { return handle_.get(); }

    /// The session they belong to.
    std::string session_id() const {
        return detail::string_out([&](char **out) { return ags_action_buttons_session_id(handle(), out); });
    }
    /// The path of action_buttons.json.
    std::string path() const {
        return detail::string_out([&](char **out) { return ags_action_buttons_path(handle(), out); });
    }
    /// The stored suggestions: {"buttons","generated_at","for_event_seq"}.
    std::string get() const {
        return detail::string_out([&](char **out) { return ags_action_buttons_get(handle(), out); });
    }
    /// Whether none are stored.
    bool is_empty() const {
        return detail::value_out<bool>([&](bool *out) { return ags_action_buttons_is_empty(handle(), out); });
    }
    /// Replaces them with a JSON array of {"label","response"}; returns them as stored.
    std::string set(const std::string &buttons_json, std::uint64_t for_event_seq = 0) const {
        return detail::string_out([&](char **out) {
            return ags_action_buttons_set(handle(), buttons_json.c_str(), for_event_seq, out);
        });
    }
    /// Removes them.
    void clear() const { detail::check(ags_action_buttons_clear(handle())); }
    /// Deletes the file.
    void delete_file() const { detail::check(ags_action_buttons_delete(handle())); }

private:
    friend class Store;
    explicit ActionButtons(ags_action_buttons *handle) noexcept : handle_(handle) {}
    detail::Owner<ags_action_buttons, ags_action_buttons_free> handle_;
};

/// A search in progress (ags_search).
class Search {
public:
    /// The C handle (owned by this object).
    const ags_search *handle() const noexcept { return handle_.get(); }

    /// The next hit as JSON; nullopt when done. An exception thrown by the
    /// progress callback is rethrown here.
    std::optional<std::string> next() {
        char *out = nullptr;
        ags_status status = ags_search_next(handle(), &out);
        std::unique_ptr<char, detail::StringFree> owned(out);
        if (progress_ && progress_->error) std::rethrow_exception(std::exchange(progress_->error, nullptr));
        detail::check(status);
        return detail::take_optional(owned.release());
    }
    /// Number of sessions the search scans.
    std::size_t session_count() const {
        return detail::value_out<std::size_t>(
            [&](std::size_t *out) { return ags_search_session_count(handle(), out); });
    }

private:
    friend class Store;
    Search(ags_search *handle, std::unique_ptr<detail::Progress> progress) noexcept
        : progress_(std::move(progress)), handle_(handle) {}
    // Declared first so the handle is freed before the callback it points to.
    std::unique_ptr<detail::Progress> progress_;
    detail::Owner<ags_search, ags_search_free> handle_;
};

/// Follows one session as it grows (ags_follow).
class Follow {
public:
    /// The C handle (owned by this object).
    const ags_follow *handle() const noexcept { return handle_.get(); }

    /// Waits for the next event; nullopt when following ended.
    std::optional<std::string> next() const {
        char *out = nullptr;
        detail::check(ags_follow_next(handle(), &out));
        return detail::take_optional(out);
    }
    /// Asks a waiting next() to return nullopt (from any thread).
    void stop() const { detail::check(ags_follow_stop(handle())); }

private:
    friend class Store;
    explicit Follow(ags_follow *handle) noexcept : handle_(handle) {}
    detail::Owner<ags_follow, ags_follow_free> handle_;
};

inline Result<Lock> Store::acquire(AcquireFn how, const std::string &id,
                                  const std::string &client_type) const noexcept {
    ags_lock *out = nullptr;
    ags_status status = how(handle(), id.c_str(), client_type.c_str(), &out);
    if (status != AGS_OK) return Result<Lock>::failure(status);
    return Result<Lock>::success(Lock(out));
}

inline Lock Store::try_acquire_lock(const std::string &id, const std::string &client_type) const {
    return try_acquire_lock(id, client_type, std::nothrow).value();
}

inline Result<Lock> Store::try_acquire_lock(const std::string &id, const std::string &client_type,
                                            std::nothrow_t) const noexcept {
    return acquire(ags_store_try_acquire_lock, id, client_type);
}

inline Lock Store::force_acquire_lock(const std::string &id, const std::string &client_type) const {
    return force_acquire_lock(id, client_type, std::nothrow).value();
}

inline Result<Lock> Store::force_acquire_lock(const std::string &id, const std::string &client_type,
                                              std::nothrow_t) const noexcept {
    return acquire(ags_store_force_acquire_lock, id, client_type);
}

inline Lock Store::force_interrupt_lock(const std::string &id, const std::string &client_type) const {
    return acquire(ags_store_force_interrupt_lock, id, client_type).value();
}

inline Queue Store::queue(const std::string &id) const {
    return Queue(detail::value_out<ags_queue *>(
        [&](ags_queue **out) { return ags_store_queue(handle(), id.c_str(), out); }));
}

inline ActionButtons Store::action_buttons(const std::string &id) const {
    return ActionButtons(detail::value_out<ags_action_buttons *>(
        [&](ags_action_buttons **out) { return ags_store_action_buttons(handle(), id.c_str(), out); }));
}

inline Search Store::search(const std::string &query_json,
                            std::function<void(std::size_t, std::size_t)> progress) const {
    std::unique_ptr<detail::Progress> holder;
    if (progress) holder.reset(new detail::Progress{std::move(progress), nullptr});
    ags_search *raw = detail::value_out<ags_search *>([&](ags_search **out) {
        return ags_store_search(handle(), query_json.c_str(), holder ? &detail::Progress::trampoline : nullptr,
                                holder.get(), out);
    });
    return Search(raw, std::move(holder));
}

inline Follow Store::follow(const std::string &id, std::uint64_t after_seq, double idle_timeout_s) const {
    return Follow(detail::value_out<ags_follow *>([&](ags_follow **out) {
        return ags_store_follow(handle(), id.c_str(), after_seq, idle_timeout_s, out);
    }));
}

/// Copies every session of `from` into `to` (ags_migrate); returns the
/// report as JSON. `progress` (may be empty) is called with (sessions done,
/// total) after each session; an exception it throws does not stop the copy
/// but is rethrown when it returns.
inline std::string migrate(const Store &from, const Store &to,
                           std::function<void(std::size_t, std::size_t)> progress = {}) {
    detail::Progress holder{std::move(progress), nullptr};
    char *out = nullptr;
    ags_status status = ags_migrate(from.handle(), to.handle(),
                                    holder.call ? &detail::Progress::trampoline : nullptr, &holder, &out);
    std::unique_ptr<char, detail::StringFree> owned(out);
    if (holder.error) std::rethrow_exception(holder.error);
    detail::check(status);
    return detail::take(owned.release());
}

/// Sets the heartbeat interval and stale timeout (seconds) for the process.
inline void configure(double heartbeat_interval_s, double stale_timeout_s) {
    detail::check(ags_configure(heartbeat_interval_s, stale_timeout_s));
}
/// The heartbeat interval and stale timeout, in seconds.
inline std::pair<double, double> settings() {
    std::pair<double, double> out{};
    detail::check(ags_settings(&out.first, &out.second));
    return out;
}
/// Releases every lock of this process; returns how many.
inline std::size_t cleanup_all_locks() { return detail::value_out<std::size_t>(ags_cleanup_all_locks); }
/// How many locks this process holds.
inline std::size_t active_lock_count() { return detail::value_out<std::size_t>(ags_active_lock_count); }
/// Heartbeat counters and lateness (JSON).
inline std::string heartbeat_stats() { return detail::string_out(ags_heartbeat_stats); }
/// Clears the heartbeat counters.
inline void reset_heartbeat_stats() { detail::check(ags_reset_heartbeat_stats()); }
/// Releases every lock, stops the heartbeat thread and the auxiliary session.
inline void shutdown() { detail::check(ags_shutdown()); }
/// Releases every lock on SIGINT/SIGTERM/SIGHUP left at their default; returns the signals (JSON).
inline std::string release_locks_on_signals() { return detail::string_out(ags_release_locks_on_signals); }

/// The process-wide auxiliary session (ags_auxiliary_*).
namespace auxiliary {

/// Records the agent command line and working directory (nullopt: current).
inline void initialize(const std::string &command, const std::optional<std::string> &cwd = std::nullopt) {
    detail::check(ags_auxiliary_initialize(command.c_str(), detail::c_str(cwd)));
}
/// Sets the timeout (seconds) of the utilities.
inline void set_default_timeout(double seconds) { detail::check(ags_auxiliary_set_default_timeout(seconds)); }
/// The timeout (seconds) of the utilities.
inline double default_timeout() { return detail::value_out<double>(ags_auxiliary_default_timeout); }
/// Sends one prompt; returns the agent's reply.
inline std::string prompt(const std::string &text, double timeout_s = 30.0) {
    return detail::string_out([&](char **out) { return ags_auxiliary_prompt(text.c_str(), timeout_s, out); });
}
/// A conversation title for a first message.
inline std::string generate_title(const std::string &first_message) {
    return detail::string_out(
        [&](char **out) { return ags_auxiliary_generate_title(first_message.c_str(), out); });
}
/// A title for a queued message.
inline std::string generate_queued_message_title(const std::string &message) {
    return detail::string_out(
        [&](char **out) { return ags_auxiliary_generate_queued_message_title(message.c_str(), out); });
}
/// A clearer version of a prompt.
inline std::string improve_prompt(const std::string &prompt) {
    return detail::string_out([&](char **out) { return ags_auxiliary_improve_prompt(prompt.c_str(), out); });
}
/// Suggested answers to an agent's reply, as a JSON array of {"label","value"}.
inline std::string analyze_follow_up_questions(const std::string &agent_reply) {
    return detail::string_out(
        [&](char **out) { return ags_auxiliary_analyze_follow_up_questions(agent_reply.c_str(), out); });
}
/// Asks the background worker to title a queued message; whether it was taken.
inline bool request_queued_message_title(const Queue &queue, const std::string &message_id) {
    return detail::value_out<bool>([&](bool *out) {
        return ags_auxiliary_request_queued_message_title(queue.handle(), message_id.c_str(), out);
    });
}
/// Whether the agent process is running.
inline bool is_started() { return detail::value_out<bool>(ags_auxiliary_is_started); }
/// The agent's process id (0 when none runs).
inline std::uint32_t pid() { return detail::value_out<std::uint32_t>(ags_auxiliary_pid); }
/// Stops the worker and the agent and forgets the command.
inline void shutdown() { detail::check(ags_auxiliary_shutdown()); }

}  // namespace auxiliary

}  // namespace agentsession

#endif
