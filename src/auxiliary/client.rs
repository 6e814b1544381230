//! The client side of ACP in the auxiliary session: what it offers the agent,
//! how it answers the agent's requests, and which updates carry reply text.
//!
//! The session runs unattended, so permission requests are approved at once
//! (an allow option if there is one, else a reject option). The agent may
//! read text files inside the working directory; it may not write files, and
//! terminals are not offered.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use agent_client_protocol_schema::v1::{
    AgentRequest, ClientCapabilities, ContentBlock, ContentChunk, Error as RpcError, ErrorCode,
    FileSystemCapabilities, PermissionOption, PermissionOptionKind, ReadTextFileRequest,
    ReadTextFileResponse, RequestPermissionOutcome, RequestPermissionResponse,
    SelectedPermissionOutcome, SessionUpdate, CLIENT_METHOD_NAMES,
};
use agent_client_protocol_schema::MethodDispatchError;
use serde::Deserialize;
use serde_json::Value;

/// The method of the agent's update notifications.
pub(crate) const SESSION_UPDATE: &str = CLIENT_METHOD_NAMES.session_update;

/// What the auxiliary session offers the agent: text-file reads only.
pub(crate) fn capabilities() -> ClientCapabilities {
    ClientCapabilities::new()
        .fs(FileSystemCapabilities::new()
            .read_text_file(true)
            .write_text_file(false))
        .terminal(false)
}

/// Answers a request of the agent; `cwd` is the session's canonical working
/// directory.
pub(crate) fn answer(cwd: &Path, method: &str, params: &Value) -> Result<Value, RpcError> {
    let request = AgentRequest::from_method_and_params(method, params).map_err(|e| match e {
        MethodDispatchError::InvalidPayload { source, .. } => {
            RpcError::invalid_params().data(source.to_string())
        }
        _ => RpcError::method_not_found().data(method),
    })?;
    let result = match request {
        AgentRequest::RequestPermissionRequest(r) => serde_json::to_value(
            RequestPermissionResponse::new(choose_permission(&r.options)),
        ),
        AgentRequest::ReadTextFileRequest(r) => serde_json::to_value(read_text_file(cwd, &r)?),
        AgentRequest::WriteTextFileRequest(_) => {
            return Err(RpcError::new(
                ErrorCode::InvalidRequest.into(),
                "file writes are refused by the auxiliary session",
            ))
        }
        _ => return Err(RpcError::method_not_found().data(method)),
    };
    result.map_err(RpcError::into_internal_error)
}

/// The option the unattended session picks: allow (once rather than always),
/// else reject; with no options at all the request is cancelled.
fn choose_permission(options: &[PermissionOption]) -> RequestPermissionOutcome {
    use PermissionOptionKind::{AllowAlways, AllowOnce, RejectAlways, RejectOnce};
    [AllowOnce, AllowAlways, RejectOnce, RejectAlways]
        .iter()
        .find_map(|kind| options.iter().find(|o| o.kind == *kind))
        .map_or(RequestPermissionOutcome::Cancelled, |o| {
            RequestPermissionOutcome::Selected(SelectedPermissionOutcome::new(o.option_id.clone()))
        })
}

/// Reads a text file inside `cwd`, optionally from a 1-based line and for a
/// number of lines.
fn read_text_file(cwd: &Path, req: &ReadTextFileRequest) -> Result<ReadTextFileResponse, RpcError> {
    let outside = || {
        RpcError::invalid_params().data(format!(
            "{} is outside the working directory of the auxiliary session",
            req.path.display()
        ))
    };
    let path = normalize(&cwd.join(&req.path));
    if !path.starts_with(cwd) {
        return Err(outside());
    }
    let io_error = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => {
            RpcError::resource_not_found(Some(req.path.display().to_string()))
        }
        io::ErrorKind::InvalidData => {
            RpcError::invalid_params().data(format!("{} is not UTF-8 text", req.path.display()))
        }
        _ => RpcError::internal_error().data(format!("{}: {e}", req.path.display())),
    };
    // Symbolic links may still lead out of the directory.
    let real = fs::canonicalize(&path).map_err(io_error)?;
    if !real.starts_with(cwd) {
        return Err(outside());
    }
    let text = fs::read_to_string(&real).map_err(io_error)?;
    let skip = req.line.map_or(0, |l| l.saturating_sub(1) as usize);
    let content = match (skip, req.limit) {
        (0, None) => text,
        (skip, limit) => text
            .split_inclusive('\n')
            .skip(skip)
            .take(limit.map_or(usize::MAX, |l| l as usize))
            .collect(),
    };
    Ok(ReadTextFileResponse::new(content))
}

/// Resolves `.` and `..` in an absolute path without touching the disk.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The reply text carried by a notification of the agent, with the session it
/// belongs to. Only `agent_message_chunk` text counts; updates of other or
/// unknown kinds, and malformed ones, are skipped without failing the turn.
pub(crate) fn message_chunk(method: &str, params: &Value) -> Option<(String, String)> {
    if method != CLIENT_METHOD_NAMES.session_update {
        log::debug!("ignoring notification {method} from the auxiliary agent");
        return None;
    }
    let session_id = params.get("sessionId")?.as_str()?;
    let update = params.get("update")?;
    match SessionUpdate::deserialize(update) {
        Ok(SessionUpdate::AgentMessageChunk(ContentChunk {
            content: ContentBlock::Text(text),
            ..
        })) => Some((session_id.to_string(), text.text)),
        Ok(_) => None,
        Err(e) => {
            let kind = update
                .get("sessionUpdate")
                .and_then(Value::as_str)
                .unwrap_or("?");
            log::debug!("ignoring session update {kind} from the auxiliary agent: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cwd() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    fn read(dir: &Path, params: Value) -> Result<Value, RpcError> {
        answer(dir, CLIENT_METHOD_NAMES.fs_read_text_file, &params)
    }

    #[test]
    fn permission_prefers_allow_once_then_reject() {
        let option = |id: &str, kind| PermissionOption::new(id.to_string(), id.to_string(), kind);
        let opts = [
            option("r", PermissionOptionKind::RejectOnce),
            option("aa", PermissionOptionKind::AllowAlways),
            option("a", PermissionOptionKind::AllowOnce),
        ];
        let picked = |o: RequestPermissionOutcome| match o {
            RequestPermissionOutcome::Selected(s) => s.option_id.to_string(),
            _ => "cancelled".into(),
        };
        assert_eq!(picked(choose_permission(&opts)), "a");
        assert_eq!(picked(choose_permission(&opts[..2])), "aa");
        assert_eq!(picked(choose_permission(&opts[..1])), "r");
        assert_eq!(picked(choose_permission(&[])), "cancelled");
    }

    #[test]
    fn reads_inside_cwd_with_line_and_limit() {
        let dir = cwd();
        let root = dir.path().canonicalize().unwrap();
        fs::write(root.join("f.txt"), "one\ntwo\nthree\n").unwrap();
        let got = read(&root, json!({"sessionId": "s", "path": root.join("f.txt")})).unwrap();
        assert_eq!(got["content"], "one\ntwo\nthree\n");
        let got = read(
            &root,
            json!({"sessionId": "s", "path": "f.txt", "line": 2, "limit": 1}),
        );
        assert_eq!(got.unwrap()["content"], "two\n");
    }

    #[test]
    fn refuses_reads_outside_cwd() {
        let dir = cwd();
        let root = dir.path().canonicalize().unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("secret"), "x").unwrap();
        let sub = root.join("sub");
        for path in [
            root.join("secret"),
            sub.join("../secret"),
            PathBuf::from("/etc/passwd"),
        ] {
            let e = read(&sub, json!({"sessionId": "s", "path": path})).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidParams, "{path:?}");
        }
        std::os::unix::fs::symlink(root.join("secret"), sub.join("link")).unwrap();
        let e = read(&sub, json!({"sessionId": "s", "path": sub.join("link")})).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParams);
        let e = read(&sub, json!({"sessionId": "s", "path": sub.join("missing")})).unwrap_err();
        assert_eq!(e.code, ErrorCode::ResourceNotFound);
    }

    #[test]
    fn refuses_writes_terminals_and_unknown_methods() {
        let dir = cwd();
        let p = json!({"sessionId": "s", "path": dir.path().join("w"), "content": "x"});
        let e = answer(dir.path(), CLIENT_METHOD_NAMES.fs_write_text_file, &p).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert!(!dir.path().join("w").exists());
        let p = json!({"sessionId": "s", "command": "echo"});
        let e = answer(dir.path(), CLIENT_METHOD_NAMES.terminal_create, &p).unwrap_err();
        assert_eq!(e.code, ErrorCode::MethodNotFound);
        let e = answer(dir.path(), "no/such", &json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::MethodNotFound);
        let e = answer(dir.path(), CLIENT_METHOD_NAMES.fs_read_text_file, &json!(1)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParams);
    }

    #[test]
    fn only_agent_text_chunks_count() {
        let m = CLIENT_METHOD_NAMES.session_update;
        let chunk = |kind: &str| {
            json!({"sessionId": "s", "update": {"sessionUpdate": kind,
                "content": {"type": "text", "text": "hi", "extra": 1}, "unknown": true}})
        };
        assert_eq!(
            message_chunk(m, &chunk("agent_message_chunk")),
            Some(("s".into(), "hi".into()))
        );
        assert_eq!(message_chunk(m, &chunk("agent_thought_chunk")), None);
        assert_eq!(message_chunk(m, &chunk("brand_new_kind")), None);
        assert_eq!(message_chunk(m, &json!({"sessionId": "s"})), None);
        assert_eq!(
            message_chunk("other/method", &chunk("agent_message_chunk")),
            None
        );
    }
}
