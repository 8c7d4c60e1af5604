//! Who the client is and how it came, as proxy mode tells the application: the
//! `X-Forwarded-*` headers are the signer's own, or kept from a proxy in front that
//! `S3FILE_TRUSTED_PROXIES` names.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_REAL_IP: HeaderName = HeaderName::from_static("x-real-ip");

/// Every header that tells the application who the client is and how it came: the signer sets
/// these (or keeps a trusted proxy's), so a client's own never pass as they are.
const FORWARDING: [HeaderName; 5] =
    [X_FORWARDED_FOR, X_FORWARDED_HOST, X_FORWARDED_PROTO, header::FORWARDED, X_REAL_IP];

/// An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`): an entry of
/// `S3FILE_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u32,
}

impl IpRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                masked(u32::from(address).into(), 32, self.prefix) == u32::from(network).into()
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                masked(address.into(), 128, self.prefix) == u128::from(network)
            }
            _ => false,
        }
    }
}

/// `value`, `width` bits wide, with the bits past the first `prefix` cleared.
fn masked(value: u128, width: u32, prefix: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        value & (u128::MAX << (width - prefix))
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or a CIDR range such as 10.0.0.0/8"))?;
        let (bits, width) = match network {
            IpAddr::V4(address) => (u32::from(address).into(), 32),
            IpAddr::V6(address) => (u128::from(address), 128),
        };
        let prefix = match prefix {
            None => width,
            Some(prefix) => Some(prefix)
                .filter(|prefix| !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|prefix| prefix.parse::<u32>().ok())
                .filter(|prefix| *prefix <= width)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {width}"))?,
        };
        // 10.0.0.1/8 is more likely a typo than a way to say 10.0.0.0/8: refuse, do not guess.
        if masked(bits, width, prefix) != bits {
            return Err(format!("{text:?} has address bits set past its /{prefix} prefix"));
        }
        Ok(IpRange { network, prefix })
    }
}

/// `S3FILE_TRUSTED_PROXIES`: comma-separated [`IpRange`]s. Empty items are skipped, so an
/// empty setting (as templated deployments often pass) means none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<IpRange>);

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .filter(|item| !item.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

/// The forwarding headers ([`FORWARDING`]) the application gets, from those the client sent,
/// the TCP peer (absent when the router is served without `ConnectInfo`) and the trusted
/// proxies.
///
/// From a trusted proxy, its headers are kept and its address appended to `X-Forwarded-For`,
/// as it vouches for the client before it. From anyone else, nothing of theirs is kept:
/// `X-Forwarded-For` is the peer (omitted when unknown rather than made up), `X-Forwarded-Host`
/// the `Host` it asked for, and `X-Forwarded-Proto` `http`, what the signer serves.
pub fn forwarding_headers(incoming: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpRange]) -> HeaderMap {
    let peer = peer.map(|peer| peer.to_canonical());
    let trusted_peer = peer.filter(|peer| trusted.iter().any(|range| range.contains(*peer)));
    let mut outgoing = HeaderMap::new();
    if trusted_peer.is_some() {
        for name in FORWARDING {
            for value in incoming.get_all(&name) {
                outgoing.append(name.clone(), value.clone());
            }
        }
    }
    if let Some(peer) = peer {
        // One list, the peer last: the hops in the order they were made.
        let mut chain: Vec<u8> = Vec::new();
        for value in outgoing.get_all(X_FORWARDED_FOR) {
            chain.extend_from_slice(value.as_bytes());
            chain.extend_from_slice(b", ");
        }
        chain.extend_from_slice(peer.to_string().as_bytes());
        let chain = HeaderValue::from_bytes(&chain).expect("header values joined by \", \" are one");
        outgoing.insert(X_FORWARDED_FOR, chain);
    }
    if !outgoing.contains_key(X_FORWARDED_HOST) {
        if let Some(host) = incoming.get(header::HOST) {
            outgoing.insert(X_FORWARDED_HOST, host.clone());
        }
    }
    if !outgoing.contains_key(X_FORWARDED_PROTO) {
        outgoing.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
    outgoing
}

/// Replaces the forwarding headers of a request on its way to the application with those
/// [`forwarding_headers`] gives.
pub fn replace_forwarding_headers(headers: &mut HeaderMap, peer: Option<IpAddr>, trusted: &[IpRange]) {
    let forwarding = forwarding_headers(headers, peer, trusted);
    for name in FORWARDING {
        headers.remove(name);
    }
    headers.extend(forwarding);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header map of `pairs`, names in any case.
    pub(crate) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> =
            map.iter().map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned())).collect();
        pairs.sort();
        pairs
    }

    #[test]
    fn forwarding_headers_by_peer_and_trust() {
        let ranges = |list: &[&str]| -> Vec<IpRange> { list.iter().map(|r| r.parse().unwrap()).collect() };
        /// Header lines, in order.
        type Lines = &'static [(&'static str, &'static str)];
        /// What the application gets, in any order.
        type Expected = Vec<(&'static str, &'static str)>;
        /// What the case is, the client's headers, the peer, the trusted ranges, the result.
        type Case = (&'static str, Lines, Option<&'static str>, Vec<IpRange>, Expected);
        let claims: Lines = &[
            ("host", "signer.example"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
            ("forwarded", "for=6.6.6.6"),
            ("x-real-ip", "6.6.6.6"),
        ];
        fn own(xff: Option<&'static str>) -> Expected {
            let mut expected = vec![("x-forwarded-host", "signer.example"), ("x-forwarded-proto", "http")];
            expected.extend(xff.map(|xff| ("x-forwarded-for", xff)));
            expected
        }
        #[rustfmt::skip]
        let table: Vec<Case> = vec![
            ("no peer: no address made up", claims, None, ranges(&["10.0.0.0/8"]), own(None)),
            ("no peer, no host", &[("x-forwarded-for", "6.6.6.6")], None, vec![], vec![("x-forwarded-proto", "http")]),
            ("untrusted peer, nothing trusted", claims, Some("192.0.2.7"), vec![], own(Some("192.0.2.7"))),
            ("untrusted peer, others trusted", claims, Some("192.0.2.7"), ranges(&["10.0.0.0/8", "192.0.2.8"]), own(Some("192.0.2.7"))),
            ("untrusted peer, no claims", &[("host", "signer.example")], Some("192.0.2.7"), vec![], own(Some("192.0.2.7"))),
            ("trusted peer keeps its claims", claims, Some("10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("forwarded", "for=6.6.6.6"),
                ("x-forwarded-for", "6.6.6.6, 10.1.2.3"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
                ("x-real-ip", "6.6.6.6"),
            ]),
            ("trusted peer without claims", &[("host", "signer.example")], Some("10.1.2.3"), ranges(&["10.1.2.3"]), own(Some("10.1.2.3"))),
            ("trusted peer, several lines", &[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "2.2.2.2, 3.3.3.3")], Some("10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.2.3"),
                ("x-forwarded-proto", "http"),
            ]),
            ("mapped IPv4 peer matches an IPv4 range", claims, Some("::ffff:10.1.2.3"), ranges(&["10.0.0.0/8"]), vec![
                ("forwarded", "for=6.6.6.6"),
                ("x-forwarded-for", "6.6.6.6, 10.1.2.3"),
                ("x-forwarded-host", "evil.example"),
                ("x-forwarded-proto", "https"),
                ("x-real-ip", "6.6.6.6"),
            ]),
            ("IPv6 peer in an IPv6 range", &[("x-forwarded-for", "2001:db8::1")], Some("fd00::5"), ranges(&["fd00::/8"]), vec![
                ("x-forwarded-for", "2001:db8::1, fd00::5"),
                ("x-forwarded-proto", "http"),
            ]),
            ("IPv6 peer outside", claims, Some("fe80::1"), ranges(&["fd00::/8", "0.0.0.0/0"]), own(Some("fe80::1"))),
            ("everything trusted", &[("x-forwarded-proto", "https")], Some("203.0.113.9"), ranges(&["0.0.0.0/0"]), vec![
                ("x-forwarded-for", "203.0.113.9"),
                ("x-forwarded-proto", "https"),
            ]),
        ];
        for (case, incoming, peer, trusted, expected) in table {
            let peer = peer.map(|peer| peer.parse::<IpAddr>().unwrap());
            let outgoing = forwarding_headers(&headers(incoming), peer, &trusted);
            let mut expected: Vec<(String, String)> =
                expected.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            expected.sort();
            assert_eq!(pairs(&outgoing), expected, "{case}");
        }
    }

    #[test]
    fn ip_ranges_parse_strictly_and_match_by_prefix() {
        #[rustfmt::skip]
        let table: &[(&str, &[&str], &[&str])] = &[
            ("127.0.0.1", &["127.0.0.1", "::ffff:127.0.0.1"], &["127.0.0.2", "::1"]),
            (" 10.0.0.0/8 ", &["10.0.0.0", "10.255.255.255"], &["11.0.0.0", "9.255.255.255"]),
            ("192.168.1.128/25", &["192.168.1.128", "192.168.1.255"], &["192.168.1.127"]),
            ("0.0.0.0/0", &["1.2.3.4", "255.255.255.255"], &["::1"]),
            ("::1", &["::1"], &["::2", "127.0.0.1"]),
            ("fd00::/8", &["fd00::1", "fdff:ffff::1"], &["fe00::1", "10.0.0.1"]),
            ("::/0", &["::1", "2001:db8::1"], &["1.2.3.4"]),
        ];
        for (range, inside, outside) in table {
            let parsed: IpRange = range.parse().unwrap();
            for address in *inside {
                assert!(parsed.contains(address.parse().unwrap()), "{address} in {range}");
            }
            for address in *outside {
                assert!(!parsed.contains(address.parse().unwrap()), "{address} not in {range}");
            }
        }
        for bad in [
            "",
            "localhost",
            "10.0.0.0/",
            "10.0.0.0/33",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.1/8",
            "::1/129",
            "fd00::1/8",
            "10.0.0/8",
            "10.0.0.0/8/8",
        ] {
            let error = bad.parse::<IpRange>().unwrap_err();
            assert!(error.contains(&format!("{:?}", bad.trim())), "{bad}: {error}");
        }
    }

    #[test]
    fn trusted_proxies_are_a_list_that_may_be_empty() {
        let list = |text: &str| text.parse::<TrustedProxies>().map(|list| list.0);
        assert_eq!(list(""), Ok(vec![]));
        assert_eq!(list(" , "), Ok(vec![]));
        assert_eq!(list("10.0.0.0/8, ::1,"), Ok(vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()]));
        assert!(list("10.0.0.0/8,localhost").unwrap_err().contains("\"localhost\""));
    }
}
