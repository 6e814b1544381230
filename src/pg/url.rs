//! A store URL (`postgres://…` or `postgresql://…`): its connection settings
//! and the forms of it that may be shown (never with the password).

use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::Config;

use crate::error::{Error, Result};

/// How long a connection attempt may take unless the URL sets `connect_timeout`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `s` is a PostgreSQL URL (rather than a store directory).
pub(crate) fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A parsed store URL.
pub(crate) struct ServerUrl {
    /// The connection settings, password included.
    pub(crate) config: Config,
    /// The URL without its password, e.g. `postgresql://ags@127.0.0.1:5432/agentsession`.
    pub(crate) target: String,
    /// The server's addresses as `host:port` or socket file, comma-separated.
    pub(crate) endpoints: String,
    /// The time a connection attempt may take.
    pub(crate) connect_timeout: Duration,
}

impl ServerUrl {
    /// Parses `url`; a malformed one is [`Error::InvalidArgument`] naming the
    /// problem, never the password.
    pub(crate) fn parse(url: &str) -> Result<ServerUrl> {
        let invalid = |why: String| Error::invalid(format!("invalid PostgreSQL URL: {why}"));
        if !is_url(url) {
            return Err(invalid(
                "must start with postgres:// or postgresql://".into(),
            ));
        }
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            // The parser names the option, never its value.
            invalid(match std::error::Error::source(&e) {
                Some(cause) => cause.to_string(),
                None => e.to_string(),
            })
        })?;
        if config.get_hosts().is_empty() {
            return Err(invalid(
                "no host (give host:port, or ?host=/socket/dir)".into(),
            ));
        }
        if !matches!(config.get_ssl_mode(), SslMode::Disable | SslMode::Prefer) {
            return Err(invalid("TLS (sslmode=require) is not supported".into()));
        }
        let connect_timeout = *config
            .get_connect_timeout()
            .unwrap_or(&DEFAULT_CONNECT_TIMEOUT);
        config.connect_timeout(connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("agentsession");
        }
        let (target, endpoints) = describe(&config);
        Ok(ServerUrl {
            config,
            target,
            endpoints,
            connect_timeout,
        })
    }
}

/// The redacted URL and the endpoints of `config`.
fn describe(config: &Config) -> (String, String) {
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    let hosts = config.get_hosts();
    let endpoints: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(h) if h.contains(':') => format!("[{h}]:{}", port(i)),
            Host::Tcp(h) => format!("{h}:{}", port(i)),
            Host::Unix(dir) => dir
                .join(format!(".s.PGSQL.{}", port(i)))
                .display()
                .to_string(),
        })
        .collect();
    let target = if hosts.iter().all(|h| matches!(h, Host::Tcp(_))) {
        format!("postgresql://{user}{}/{db}", endpoints.join(","))
    } else {
        let names: Vec<String> = hosts
            .iter()
            .map(|h| match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(dir) => dir.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = (0..hosts.len()).map(|i| port(i).to_string()).collect();
        format!(
            "postgresql://{user}/{db}?host={}&port={}",
            names.join(","),
            ports.join(",")
        )
    };
    (target, endpoints.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> String {
        ServerUrl::parse(url).unwrap().target
    }

    #[test]
    fn target_drops_the_password() {
        assert_eq!(
            target("postgresql://ags:s3cret@127.0.0.1:5433/agentsession"),
            "postgresql://ags@127.0.0.1:5433/agentsession"
        );
        assert_eq!(
            target("postgres://ags:s3cret@db.example/x?password=other"),
            "postgresql://ags@db.example:5432/x"
        );
        assert_eq!(
            target("postgresql://ags:pw@[::1]:6000/x"),
            "postgresql://ags@[::1]:6000/x"
        );
        assert_eq!(
            target("postgresql://ags:pw@/agentsession?host=/run/pg&port=5999"),
            "postgresql://ags@/agentsession?host=/run/pg&port=5999"
        );
        let u = ServerUrl::parse("postgresql://u@h1:1,h2:2/d").unwrap();
        assert_eq!(u.target, "postgresql://u@h1:1,h2:2/d");
        assert_eq!(u.endpoints, "h1:1,h2:2");
        let u = ServerUrl::parse("postgresql://u@/d?host=/run/pg").unwrap();
        assert_eq!(u.endpoints, "/run/pg/.s.PGSQL.5432");
    }

    #[test]
    fn connect_timeout_defaults_to_five_seconds() {
        let u = ServerUrl::parse("postgresql://h/d").unwrap();
        assert_eq!(u.connect_timeout, Duration::from_secs(5));
        let u = ServerUrl::parse("postgresql://h/d?connect_timeout=2").unwrap();
        assert_eq!(u.connect_timeout, Duration::from_secs(2));
        assert_eq!(
            u.config.get_connect_timeout(),
            Some(&Duration::from_secs(2))
        );
    }
}
