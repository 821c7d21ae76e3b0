//! `missive keys discover` against real servers (issue 7): Knot serving DNSSEC-signed,
//! unsigned and bogus zones with OPENPGPKEY records, trusted through a test anchor; and an
//! HTTPS Web Key Directory on loopback with a test CA, its names resolved through Knot.
//! Keys are made by Sequoia at test time.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use crate::support::knot::{BOGUS, Knot, SIGNED, UNSIGNED};
use crate::support::openpgp::{
    sequoia_certificate, sequoia_certificate_with_unsigned_user_id, write_autocrypt_mail,
};
use crate::support::wkd::WkdServer;
use crate::support::{Home, run};

/// Names of the signed zone the WKD tests use: `example.test` has an `openpgpkey`
/// subdomain; `direct.example.test` has none; `broken.example.test` has both.
const HOSTS: &[&str] = &[
    "openpgpkey.example.test",
    "direct.example.test",
    "openpgpkey.direct.example.test",
    "broken.example.test",
    "openpgpkey.broken.example.test",
];

fn host_records() -> Vec<(&'static str, String)> {
    ["openpgpkey", "direct", "broken", "openpgpkey.broken"]
        .iter()
        .map(|name| (SIGNED, format!("{name} A 127.0.0.1")))
        .collect()
}

/// The OPENPGPKEY record of `address` in its zone's file.
fn openpgpkey(address: &str, cert: &[u8]) -> String {
    let owner = missive::keys::dane::owner_name(address).expect("an address");
    format!(
        "{owner}. OPENPGPKEY {}",
        base64::engine::general_purpose::STANDARD.encode(cert)
    )
}

/// The path and query of a WKD URL of `address`: advanced or direct.
pub(crate) fn wkd_path(address: &str, advanced: bool) -> String {
    let (a, d) = missive::keys::wkd::urls(address).expect("an address");
    let url = if advanced { a } else { d };
    let after_scheme = url.strip_prefix("https://").expect("https");
    after_scheme[after_scheme.find('/').expect("a path")..].to_string()
}

/// The servers and a home whose config points at them.
pub(crate) struct Net {
    pub(crate) home: Home,
    pub(crate) knot: Knot,
    pub(crate) wkd: WkdServer,
}

impl Net {
    pub(crate) fn start(
        records: &[(&str, String)],
        answers: BTreeMap<String, (u16, Vec<u8>)>,
    ) -> Net {
        let mut all = host_records();
        all.extend(records.iter().cloned());
        let knot = Knot::start(&all);
        let wkd = WkdServer::start(HOSTS, answers);
        let home = Home::new();
        let net = Net { home, knot, wkd };
        net.home.write_config(&net.keys_config());
        net
    }

    /// The `[keys]` section that points discovery at these servers.
    pub(crate) fn keys_config(&self) -> String {
        format!(
            "[keys]\nnameserver = \"{}\"\ntrust_anchor = \"{}\"\nca_file = \"{}\"\nhttps_port = {}\n",
            self.knot.nameserver(),
            self.knot.trust_anchor().display(),
            self.wkd.ca_file().display(),
            self.wkd.port
        )
    }

    fn discover(&self, address: &str) -> (i32, Vec<Value>, String) {
        run(self.home.missive().args(["keys", "discover", address]))
    }
}

fn keys_of(records: &[Value]) -> Vec<&Value> {
    records.iter().filter(|r| r["kind"] == "key").collect()
}

/// The `lookup` record of `method`.
fn lookup<'a>(records: &'a [Value], method: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["kind"] == "lookup" && r["method"] == method)
        .unwrap_or_else(|| panic!("no {method} lookup in {records:?}"))
}

#[test]
fn a_dnssec_secure_openpgpkey_record_is_used_and_bound_as_dane() {
    let (fingerprint, cert) = sequoia_certificate("Hugh <hugh@example.test>");
    // RFC 7929 hashes the local part as written; the domain is a DNS name, of any case.
    let net = Net::start(
        &[(SIGNED, openpgpkey("Hugh@example.test", &cert))],
        BTreeMap::new(),
    );
    let (code, records, stderr) = net.discover("Hugh@Example.TEST");
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys.len(), 1, "{records:?}");
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(keys[0]["found"]["method"], "dane");
    assert_eq!(keys[0]["found"]["outcome"], "tofu");
    assert_eq!(
        keys[0]["found"]["from"],
        missive::keys::dane::owner_name("Hugh@example.test").unwrap()
    );
    assert_eq!(keys[0]["found"]["address"], "hugh@example.test");
    assert_eq!(lookup(&records, "wkd")["outcome"], "not_found");
    let (code, shown, _) = run(net
        .home
        .missive()
        .args(["keys", "show", "hugh@example.test"]));
    assert_eq!(code, 0);
    assert_eq!(shown[0]["bindings"][0]["source"], "dane");
    assert_eq!(shown[0]["bindings"][0]["state"], "tofu");
}

#[test]
fn an_openpgpkey_record_of_an_unsigned_zone_is_refused_as_insecure() {
    let (_, cert) = sequoia_certificate("<hugh@unsigned.example.test>");
    let net = Net::start(
        &[(UNSIGNED, openpgpkey("hugh@unsigned.example.test", &cert))],
        BTreeMap::new(),
    );
    let (code, records, stderr) = net.discover("hugh@unsigned.example.test");
    assert_eq!(code, 1, "a refused answer is a failure: {stderr}");
    assert!(keys_of(&records).is_empty(), "{records:?}");
    let dane = lookup(&records, "dane");
    assert_eq!(dane["outcome"], "refused");
    assert!(
        dane["reason"].as_str().unwrap().contains("Insecure"),
        "{dane}"
    );
    let (_, listed, _) = run(net.home.missive().args(["keys", "list"]));
    assert!(listed.is_empty(), "nothing is stored: {listed:?}");
}

#[test]
fn an_openpgpkey_record_failing_dnssec_validation_is_refused_as_bogus() {
    let (_, cert) = sequoia_certificate("<hugh@bogus.example.test>");
    let net = Net::start(
        &[(BOGUS, openpgpkey("hugh@bogus.example.test", &cert))],
        BTreeMap::new(),
    );
    let (code, records, stderr) = net.discover("hugh@bogus.example.test");
    assert_eq!(code, 1, "{stderr}");
    assert!(keys_of(&records).is_empty(), "{records:?}");
    let dane = lookup(&records, "dane");
    assert_eq!(dane["outcome"], "refused");
    assert!(dane["reason"].as_str().unwrap().contains("bogus"), "{dane}");
}

#[test]
fn the_wkd_advanced_method_finds_the_key() {
    let (fingerprint, cert) = sequoia_certificate("Alice <alice@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path.clone(), (200, cert))]));
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys.len(), 1, "{records:?}");
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(keys[0]["found"]["method"], "wkd");
    assert_eq!(keys[0]["found"]["outcome"], "tofu");
    assert!(
        keys[0]["found"]["from"]
            .as_str()
            .unwrap()
            .starts_with("https://openpgpkey.example.test/")
    );
    assert_eq!(keys[0]["bindings"][0]["source"], "wkd");
    assert_eq!(lookup(&records, "dane")["outcome"], "not_found");
    assert_eq!(net.wkd.asked(), [path]);
}

#[test]
fn the_wkd_direct_method_is_used_when_the_openpgpkey_subdomain_does_not_exist() {
    let (fingerprint, cert) = sequoia_certificate("Bob <bob@direct.example.test>");
    let path = wkd_path("bob@direct.example.test", false);
    let net = Net::start(&[], BTreeMap::from([(path.clone(), (200, cert))]));
    let (code, records, stderr) = net.discover("bob@direct.example.test");
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys.len(), 1, "{records:?}");
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert!(
        keys[0]["found"]["from"]
            .as_str()
            .unwrap()
            .starts_with("https://direct.example.test/.well-known/openpgpkey/hu/")
    );
    assert_eq!(net.wkd.asked(), [path]);
}

#[test]
fn a_failing_advanced_server_is_not_a_reason_to_use_the_direct_method() {
    let (_, cert) = sequoia_certificate("<carol@broken.example.test>");
    let advanced = wkd_path("carol@broken.example.test", true);
    let direct = wkd_path("carol@broken.example.test", false);
    let net = Net::start(
        &[],
        BTreeMap::from([
            (advanced.clone(), (500, b"oops".to_vec())),
            (direct, (200, cert)),
        ]),
    );
    let (code, records, stderr) = net.discover("carol@broken.example.test");
    assert_eq!(code, 75, "a server error is worth a retry: {stderr}");
    assert!(keys_of(&records).is_empty(), "{records:?}");
    let wkd = lookup(&records, "wkd");
    assert_eq!(wkd["outcome"], "failed");
    assert!(wkd["reason"].as_str().unwrap().contains("500"), "{wkd}");
    assert_eq!(net.wkd.asked(), [advanced], "the direct URL is never asked");
}

/// Discovery exited 1, stored no key, and says why WKD's certificate `fingerprint` was
/// refused for alice@example.test.
fn assert_wkd_refused(code: i32, records: &[Value], stderr: &str, fingerprint: &str) {
    assert_eq!(code, 1, "{stderr}");
    assert!(keys_of(records).is_empty(), "{records:?}");
    let wkd = lookup(records, "wkd");
    assert_eq!(wkd["outcome"], "refused");
    let reason = wkd["reason"].as_str().unwrap();
    assert!(
        reason.contains(fingerprint) && reason.contains("alice@example.test"),
        "{reason}"
    );
}

#[test]
fn a_wkd_certificate_for_another_address_is_rejected() {
    let (fingerprint, cert) = sequoia_certificate("Mallory <mallory@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, cert))]));
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_wkd_refused(code, &records, &stderr, &fingerprint);
    let (_, listed, _) = run(net.home.missive().args(["keys", "list"]));
    assert!(listed.is_empty(), "nothing is stored: {listed:?}");
}

#[test]
fn a_wkd_certificate_whose_user_id_for_the_address_has_no_self_signature_binds_nothing() {
    // Mallory's own certificate, with Alice's address appended unsigned, served as Alice's.
    let (fingerprint, cert) = sequoia_certificate_with_unsigned_user_id(
        "Mallory <mallory@example.test>",
        "Alice <alice@example.test>",
    );
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path.clone(), (200, cert))]));
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_wkd_refused(code, &records, &stderr, &fingerprint);
    assert_eq!(net.wkd.asked(), [path]);
    let (code, shown, _) = run(net
        .home
        .missive()
        .args(["keys", "show", "alice@example.test"]));
    assert_eq!(code, 2, "the address stays unbound: {shown:?}");
}

#[test]
fn a_wkd_server_whose_certificate_is_not_trusted_fails() {
    let (_, cert) = sequoia_certificate("Alice <alice@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, cert))]));
    net.home.write_config(&format!(
        "[keys]\nnameserver = \"{}\"\ntrust_anchor = \"{}\"\nhttps_port = {}\n",
        net.knot.nameserver(),
        net.knot.trust_anchor().display(),
        net.wkd.port
    ));
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_eq!(
        code, 1,
        "a certificate error is no temporary failure: {stderr}"
    );
    assert!(keys_of(&records).is_empty(), "{records:?}");
    let wkd = lookup(&records, "wkd");
    assert_eq!(wkd["outcome"], "failed");
    assert!(
        wkd["reason"].as_str().unwrap().contains("certificate"),
        "{wkd}"
    );
}

#[test]
fn a_discovered_key_other_than_the_bound_one_is_a_conflict() {
    let (first, first_cert) = sequoia_certificate("Alice <alice@example.test>");
    let (second, second_cert) = sequoia_certificate("Alice <alice@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, second_cert))]));
    let (code, _, stderr) = run(net
        .home
        .missive()
        .args(["keys", "import"])
        .write_stdin(first_cert));
    assert_eq!(code, 0, "{stderr}");
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys[0]["fingerprint"], second.as_str());
    assert_eq!(keys[0]["found"]["outcome"], "conflict");
    let (_, shown, _) = run(net.home.missive().args(["keys", "show", &first]));
    assert_eq!(
        shown[0]["bindings"][0]["state"], "tofu",
        "the bound key keeps the address"
    );
}

#[test]
fn discovering_the_contacts_looks_up_their_addresses() {
    let (fingerprint, cert) = sequoia_certificate("Alice <alice@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, cert))]));
    let (code, _, stderr) = run(net.home.missive().args([
        "contacts",
        "link",
        "email:alice@example.test",
        "mastodon:@alice@social.example",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, records, stderr) = run(net.home.missive().args(["keys", "discover", "--contacts"]));
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys.len(), 1, "{records:?}");
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(keys[0]["found"]["address"], "alice@example.test");
}

#[test]
fn a_wkd_answer_over_the_size_limit_is_refused() {
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, vec![0; 1 << 21]))]));
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_eq!(code, 1, "{stderr}");
    assert!(keys_of(&records).is_empty(), "{records:?}");
    let wkd = lookup(&records, "wkd");
    assert_eq!(wkd["outcome"], "refused");
    assert!(
        wkd["reason"].as_str().unwrap().contains("larger than"),
        "{wkd}"
    );
}

#[test]
fn the_key_an_address_announced_by_autocrypt_is_reported_beside_the_network_methods() {
    let (fingerprint, cert) = sequoia_certificate("Alice <alice@example.test>");
    let net = Net::start(&[], BTreeMap::new());
    write_autocrypt_mail(&net.home, "alice@example.test", &cert);
    let (code, _, stderr) = net.home.fetch_and_learn_keys();
    assert_eq!(code, 0, "{stderr}");
    let (code, records, stderr) = net.discover("alice@example.test");
    assert_eq!(code, 0, "{stderr}{records:?}");
    let keys = keys_of(&records);
    assert_eq!(keys.len(), 1, "{records:?}");
    assert_eq!(keys[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(keys[0]["found"]["method"], "autocrypt");
    assert_eq!(keys[0]["found"]["outcome"], "tofu");
    assert_eq!(lookup(&records, "wkd")["outcome"], "not_found");
    assert_eq!(lookup(&records, "dane")["outcome"], "not_found");
}
