//! The client's address behind proxies we trust.
//!
//! Each proxy appends the address it received the request from to
//! `X-Forwarded-For`, so the list reads `client, proxy1, proxy2` — but its
//! left part is whatever the client wrote. Only the entries our own
//! proxies added can be believed: with `n` trusted proxies in front of the
//! service, the right-most `n` entries are theirs, and the `n`-th from the
//! right is the address the outermost of them saw. That is the client's
//! address for rate limits and audit lines; anything further left is
//! ignored.

use std::net::{IpAddr, SocketAddr};

/// The client's address given the `X-Forwarded-For` values of a request
/// (every header line, in order), the connection's peer address and the
/// number of trusted proxies. With no trusted proxy, or no usable entry,
/// the peer address is used; an entry that is not an address (a proxy
/// misconfigured, or nothing trusted added it) is never used.
pub fn client_addr<'a>(
    forwarded_for: impl IntoIterator<Item = &'a str>,
    peer: Option<IpAddr>,
    trusted_proxies: usize,
) -> Option<IpAddr> {
    if trusted_proxies == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    if entries.is_empty() {
        return peer;
    }
    // Fewer entries than proxies: the request did not pass all of them;
    // the left-most entry is then still one a trusted proxy wrote.
    let index = entries.len().saturating_sub(trusted_proxies);
    entries.get(index).and_then(|e| parse_addr(e)).or(peer)
}

/// An entry as proxies write it: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]:443` or `192.0.2.1:443`.
fn parse_addr(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn the_right_most_entries_are_the_trusted_proxies() {
        let peer = ip("10.0.0.2");
        // One proxy: it appended the address it saw; what the client wrote is ignored.
        assert_eq!(client_addr(["203.0.113.9, 198.51.100.7"], peer, 1), ip("198.51.100.7"));
        assert_eq!(client_addr(["198.51.100.7"], peer, 1), ip("198.51.100.7"));
        // Two proxies: the second from the right is what the outer one saw.
        assert_eq!(client_addr(["203.0.113.9, 198.51.100.7, 10.0.0.1"], peer, 2), ip("198.51.100.7"));
        // Several header lines are one list, in order.
        assert_eq!(client_addr(["203.0.113.9", "198.51.100.7, 10.0.0.1"], peer, 2), ip("198.51.100.7"));
        // Fewer entries than proxies: the left-most, which a proxy wrote.
        assert_eq!(client_addr(["198.51.100.7"], peer, 3), ip("198.51.100.7"));
    }

    #[test]
    fn without_trust_or_a_usable_entry_the_peer() {
        let peer = ip("10.0.0.2");
        assert_eq!(client_addr(["203.0.113.9"], peer, 0), peer);
        assert_eq!(client_addr([], peer, 1), peer);
        assert_eq!(client_addr(["203.0.113.9, not-an-address"], peer, 1), peer);
        assert_eq!(client_addr(["203.0.113.9, "], peer, 1), peer);
        assert_eq!(client_addr(["203.0.113.9, unknown"], None, 1), None);
    }

    #[test]
    fn addresses_with_ports_and_v6() {
        let peer = ip("10.0.0.2");
        assert_eq!(client_addr(["2001:db8::1"], peer, 1), ip("2001:db8::1"));
        assert_eq!(client_addr(["[2001:db8::1]:443"], peer, 1), ip("2001:db8::1"));
        assert_eq!(client_addr(["198.51.100.7:5555"], peer, 1), ip("198.51.100.7"));
    }
}
