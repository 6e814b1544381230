//! The network namespaces of `scripts/netns.sh`, standing for hosts that
//! reach the PostgreSQL server over veth. Without them (or without the
//! server listening on their bridge) hosts run as plain processes, unless
//! `AGS_REQUIRE_NETNS=1`.

/// One namespace: its name and its address, as the server sees it.
pub struct Namespace {
    pub name: String,
    pub address: String,
}

/// The namespaces and the server's URL from inside them.
pub struct Namespaces {
    pub hosts: Vec<Namespace>,
    /// `AGS_PG_URL_NETNS`: the server on the bridge address, with password.
    pub url: String,
}

impl Namespaces {
    /// The namespaces, or `None` with the reason when `AGS_NETNS_HOSTS`
    /// (`name=address,...`) or `AGS_PG_URL_NETNS` is not set; a failure
    /// when `AGS_REQUIRE_NETNS=1`.
    pub fn get() -> Result<Namespaces, String> {
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{k} not set"))
        };
        let found = var("AGS_NETNS_HOSTS").and_then(|hosts| {
            Ok(Namespaces {
                hosts: hosts
                    .split(',')
                    .map(|host| {
                        let (name, address) = host.split_once('=').unwrap();
                        Namespace {
                            name: name.to_string(),
                            address: address.to_string(),
                        }
                    })
                    .collect(),
                url: var("AGS_PG_URL_NETNS")?,
            })
        });
        if let Err(why) = &found {
            assert!(
                std::env::var("AGS_REQUIRE_NETNS").as_deref() != Ok("1"),
                "AGS_REQUIRE_NETNS=1 but {why}: eval \"$(bash scripts/netns.sh up 8)\" before scripts/pg.sh start"
            );
        }
        found
    }
}

/// The network namespace this process runs in (the inode of
/// `/proc/self/ns/net`, e.g. `net:[4026531833]`).
pub fn current() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .display()
        .to_string()
}
