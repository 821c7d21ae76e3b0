//! Contacts (DESIGN §4): people, each with a name and identities across protocols, kept in
//! `state.sqlite`. An identity nobody linked is a contact of its own, whose id derives from
//! it; linking identities (by hand or by vCard import) makes them one contact, so that the
//! conversations they spanned become one.
//!
//! [`mod@identity`] spells identities one way; [`vcard`] reads vCard 2.1, 3.0 and 4.0; [`mod@suggest`]
//! proposes merges it is not sure of. The rows live in [`crate::store`]; re-deriving the
//! conversation ids a change affects is [`crate::thread::conversation::rederive`].
//!
//! Email addresses bound to one OpenPGP certificate (trust-on-first-use or verified
//! bindings of [`crate::keys`]) are one contact: the contact one of them is linked to, else
//! the implicit contact of the least of them. A conflicting, revoked or expired binding
//! merges nothing. Learning a key does not re-derive stored conversations by itself:
//! `missive thread --rebuild` does.

pub mod identity;
pub mod suggest;
pub mod vcard;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::config::Config;
use crate::record::{Contact, VERSION};
use crate::store::db::Batch;
use crate::store::{self, Db};

pub use suggest::suggest;

/// The error returned by contact operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(
        "not an identity or contact id: {0:?} (try email:…, @user@instance, twitter:@user, tel:+…)"
    )]
    NotAnIdentity(String),
    #[error("no contact {0}")]
    UnknownContact(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is one of your own identities (config identity.addresses), never a contact")]
    OwnIdentity(String),
}

crate::fault::carried_by!(Error: Store);

/// The user's own identities, from `identity.addresses` in the config: never a participant.
#[derive(Debug, Clone, Default)]
pub struct User {
    identities: BTreeSet<String>,
    /// Handles whatever their kind: `@alex` in the config is the user on any protocol.
    handles: BTreeSet<String>,
}

impl User {
    pub fn from_config(config: &Config) -> User {
        let mut user = User::default();
        for address in &config.identity.addresses {
            if let Some(identity) = identity::parse(address) {
                user.handles
                    .insert(identity::handle(&identity).to_lowercase());
                user.identities.insert(identity);
            }
            user.handles.insert(address.trim().to_lowercase());
        }
        user
    }

    /// Whether an identity is the user's.
    pub fn is_user(&self, identity: &str) -> bool {
        self.identities.contains(identity)
            || self
                .handles
                .contains(&identity::handle(identity).to_lowercase())
    }
}

/// Every link, in memory: which contact each identity belongs to, for threading.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    links: HashMap<String, String>,
    /// Email addresses as key bindings spell them → the contact their certificate makes.
    certified: HashMap<String, String>,
    contacts: BTreeMap<String, (Option<String>, BTreeSet<String>)>,
    seen: HashMap<String, Option<String>>,
}

impl Directory {
    /// The links and names the store holds.
    pub fn load(db: &Db) -> Result<Directory, Error> {
        let mut directory = Directory::default();
        for (id, name) in db.contacts()? {
            directory.contacts.insert(id, (name, BTreeSet::new()));
        }
        for (identity, contact) in db.contact_identities()? {
            directory
                .contacts
                .entry(contact.clone())
                .or_default()
                .1
                .insert(identity.clone());
            directory.links.insert(identity, contact);
        }
        directory.seen = db.seen_identities()?.into_iter().collect();
        directory.certified = certified(db, &directory.links)?;
        Ok(directory)
    }

    /// The contact id of an identity: its linked contact, else its own implicit one.
    pub fn contact_of(&self, identity: &str) -> String {
        if let Some(contact) = self.links.get(identity) {
            return contact.clone();
        }
        if !self.certified.is_empty()
            && identity::kind(identity) == "email"
            && let Some(key) = crate::keys::tofu::binding_address(identity::handle(identity))
            && let Some(contact) = self.certified.get(&key)
        {
            return contact.clone();
        }
        identity::implicit_contact(identity)
    }

    /// Notes a name an identity came with, for naming implicit contacts.
    pub fn saw(&mut self, identity: &str, name: Option<&str>) {
        match self.seen.get_mut(identity) {
            Some(seen) => {
                if name.is_some() && seen.as_deref() != name {
                    *seen = name.map(str::to_string);
                }
            }
            None => {
                self.seen
                    .insert(identity.to_string(), name.map(str::to_string));
            }
        }
    }

    /// The display name an identity last came with in a message.
    pub fn seen_name(&self, identity: &str) -> Option<&str> {
        self.seen.get(identity).and_then(|name| name.as_deref())
    }

    /// The contact an identity belongs to, as a record.
    pub fn describe(&self, identity: &str) -> Contact {
        let id = self.contact_of(identity);
        match self.contacts.get(&id) {
            Some((name, identities)) => contact_record(&id, name.clone(), identities, true),
            None => {
                // Alone, or with the addresses its certificate binds.
                let mut identities = BTreeSet::from([identity.to_string()]);
                identities.extend(
                    self.certified
                        .iter()
                        .filter(|(_, contact)| **contact == id)
                        .map(|(address, _)| identity::kind_handle("email", address))
                        .filter(|other| {
                            crate::keys::tofu::binding_address(identity::handle(other))
                                != crate::keys::tofu::binding_address(identity::handle(identity))
                        }),
                );
                contact_record(
                    &id,
                    self.seen.get(identity).cloned().flatten(),
                    &identities,
                    false,
                )
            }
        }
    }

    /// Every contact made by hand or import; with `all`, also every identity seen in a
    /// message that no contact holds, each its own contact.
    pub fn list(&self, all: bool) -> Vec<Contact> {
        let mut out: Vec<Contact> = self
            .contacts
            .iter()
            .map(|(id, (name, identities))| contact_record(id, name.clone(), identities, true))
            .collect();
        if all {
            let mut seen: Vec<&String> = self
                .seen
                .keys()
                .filter(|identity| !self.links.contains_key(*identity))
                .collect();
            seen.sort();
            out.extend(seen.into_iter().map(|identity| self.describe(identity)));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Finds a contact by id or by one of its identities.
    pub fn find(&self, text: &str) -> Result<Contact, Error> {
        if let Some((name, identities)) = self.contacts.get(text) {
            return Ok(contact_record(text, name.clone(), identities, true));
        }
        if text.starts_with("p_") {
            return self
                .seen
                .keys()
                .find(|identity| identity::implicit_contact(identity) == text)
                .map(|identity| self.describe(identity))
                .ok_or_else(|| Error::UnknownContact(text.to_string()));
        }
        let identity = identity::parse(text).ok_or_else(|| Error::NotAnIdentity(text.into()))?;
        Ok(self.describe(&identity))
    }

    /// The identities of a contact id (an implicit one maps to the identity seen under it).
    fn identities_of(&self, id: &str) -> Option<BTreeSet<String>> {
        if let Some((_, identities)) = self.contacts.get(id) {
            return Some(identities.clone());
        }
        self.seen
            .keys()
            .find(|identity| identity::implicit_contact(identity) == id)
            .map(|identity| BTreeSet::from([identity.clone()]))
    }
}

/// The contact of each email address that shares a usable certificate with another: the
/// explicit contact one of them is linked to (the least such id), else the implicit contact
/// of the least address.
fn certified(db: &Db, links: &HashMap<String, String>) -> Result<HashMap<String, String>, Error> {
    use crate::keys::tofu;
    let mut by_cert: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for binding in db.bindings(None, None)? {
        if binding.state.is_trusted() {
            by_cert
                .entry(binding.fingerprint)
                .or_default()
                .insert(binding.address);
        }
    }
    let linked: HashMap<String, &String> = links
        .iter()
        .filter(|(identity, _)| identity::kind(identity) == "email")
        .filter_map(|(identity, contact)| {
            tofu::binding_address(identity::handle(identity)).map(|key| (key, contact))
        })
        .collect();
    let mut out = HashMap::new();
    for addresses in by_cert.into_values().filter(|a| a.len() > 1) {
        let contact = addresses
            .iter()
            .filter_map(|address| linked.get(address).map(|c| c.to_string()))
            .min()
            .or_else(|| {
                addresses
                    .first()
                    .map(|least| identity::implicit_contact(&identity::kind_handle("email", least)))
            });
        if let Some(contact) = contact {
            for address in addresses {
                out.entry(address).or_insert_with(|| contact.clone());
            }
        }
    }
    Ok(out)
}

fn contact_record(
    id: &str,
    name: Option<String>,
    identities: &BTreeSet<String>,
    known: bool,
) -> Contact {
    Contact {
        id: id.to_string(),
        v: VERSION,
        name,
        known,
        identities: identities.iter().cloned().collect(),
        ..Contact::default()
    }
}

/// An argument naming either a contact made before or an identity.
enum Named {
    Contact(String),
    Identity(String),
}

fn named(directory: &Directory, user: &User, text: &str) -> Result<Named, Error> {
    if directory.contacts.contains_key(text) {
        return Ok(Named::Contact(text.to_string()));
    }
    if text.starts_with("p_") {
        return match directory.identities_of(text) {
            Some(identities) => Ok(Named::Identity(
                identities.into_iter().next().unwrap_or_default(),
            )),
            None => Err(Error::UnknownContact(text.to_string())),
        };
    }
    let identity = identity::parse(text).ok_or_else(|| Error::NotAnIdentity(text.into()))?;
    if user.is_user(&identity) {
        return Err(Error::OwnIdentity(identity));
    }
    Ok(Named::Identity(identity))
}

/// What a change to contacts did: the contact as it now is, and every identity whose
/// contact changed (their conversations need re-deriving).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub contacts: Vec<Contact>,
    pub identities: BTreeSet<String>,
}

/// `contacts link`: makes the contacts and identities named one contact, the first one's
/// (an identity nobody linked becomes a contact with its implicit id), optionally named.
pub fn link(
    db: &mut Db,
    user: &User,
    names: &[String],
    name: Option<&str>,
) -> Result<Change, Error> {
    let directory = Directory::load(db)?;
    let parsed = names
        .iter()
        .map(|text| named(&directory, user, text))
        .collect::<Result<Vec<_>, _>>()?;
    let batch = db.batch()?;
    let change = link_in(&batch, parsed, name)?;
    batch.commit()?;
    Ok(change)
}

/// [`link`] inside a transaction the caller commits.
fn link_in(batch: &Batch, parsed: Vec<Named>, name: Option<&str>) -> Result<Change, Error> {
    let mut target: Option<String> = None;
    let mut touched = BTreeSet::new();
    for item in parsed {
        match item {
            Named::Contact(id) => match &target {
                None => target = Some(id),
                Some(t) if *t == id => {}
                Some(t) => {
                    touched.extend(batch.identities_of(&id)?);
                    let old_name = batch.contact(&id)?.flatten();
                    if batch.contact(t)?.flatten().is_none() {
                        batch.put_contact(t, old_name.as_deref())?;
                    }
                    batch.move_identities(&id, t)?;
                    batch.delete_contact(&id)?;
                }
            },
            Named::Identity(identity) => {
                let current = batch.contact_of(&identity)?;
                let t = match (&target, &current) {
                    (None, Some(c)) => {
                        target = Some(c.clone());
                        continue;
                    }
                    (None, None) => {
                        let id = identity::implicit_contact(&identity);
                        batch.put_contact(&id, None)?;
                        target = Some(id.clone());
                        id
                    }
                    (Some(t), _) => t.clone(),
                };
                if current.as_deref() == Some(t.as_str()) {
                    continue;
                }
                batch.link_identity(&identity, &t)?;
                touched.insert(identity.clone());
                if let Some(old) = current
                    && batch.identities_of(&old)?.is_empty()
                {
                    batch.delete_contact(&old)?;
                }
            }
        }
    }
    let Some(target) = target else {
        return Ok(Change::default());
    };
    if let Some(name) = name {
        batch.put_contact(&target, Some(name))?;
    }
    let identities = batch.identities_of(&target)?;
    let contact_name = batch.contact(&target)?.flatten();
    touched.extend(identities.iter().cloned());
    Ok(Change {
        contacts: vec![contact_record(
            &target,
            contact_name,
            &identities.into_iter().collect(),
            true,
        )],
        identities: touched,
    })
}

/// `contacts unlink`: each identity named leaves its contact and is its own again. A
/// contact left empty is deleted; one whose id came from the identity that left takes the
/// id of its first remaining identity, so no two contacts share an id.
pub fn unlink(db: &mut Db, user: &User, names: &[String]) -> Result<Change, Error> {
    let directory = Directory::load(db)?;
    let identities = names
        .iter()
        .map(|text| match named(&directory, user, text)? {
            Named::Identity(identity) => Ok(identity),
            Named::Contact(id) => Err(Error::NotAnIdentity(id)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = db.batch()?;
    let mut change = Change::default();
    for identity in identities {
        let Some(contact) = batch.contact_of(&identity)? else {
            continue;
        };
        batch.unlink_identity(&identity)?;
        change.identities.insert(identity.clone());
        let rest = batch.identities_of(&contact)?;
        let name = batch.contact(&contact)?.flatten();
        if rest.is_empty() {
            batch.delete_contact(&contact)?;
            continue;
        }
        let mut id = contact.clone();
        if identity::implicit_contact(&identity) == contact {
            id = identity::implicit_contact(&rest[0]);
            batch.put_contact(&id, name.as_deref())?;
            batch.move_identities(&contact, &id)?;
            batch.delete_contact(&contact)?;
            change.identities.extend(rest.iter().cloned());
        }
        change
            .contacts
            .push(contact_record(&id, name, &rest.into_iter().collect(), true));
    }
    batch.commit()?;
    Ok(change)
}

/// `contacts rename`: names a contact (an identity nobody linked becomes a contact).
pub fn rename(db: &mut Db, user: &User, text: &str, name: &str) -> Result<Change, Error> {
    let mut change = link(db, user, &[text.to_string()], Some(name))?;
    change.identities.clear();
    Ok(change)
}

/// What `contacts import` made of one file: the change, and what it left out, by line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    pub change: Change,
    pub problems: Vec<vcard::Problem>,
}

/// `contacts import`: every card of a vCard file becomes a contact, or joins the contact
/// one of its identities already has (merging others it names: one card is one person).
/// A card with a name and no identity is a contact of its own, its id from its UID (else
/// its name), so that importing it again finds it. The user's own identities on a card are
/// skipped, and a card of nothing else is.
///
/// One file is one transaction: what a card holds that is not a handle, and a card that is
/// none, are [`Imported::problems`] found before anything is written, so the file's other
/// cards are all stored or, when the store fails, none of them.
pub fn import(db: &mut Db, user: &User, bytes: &[u8]) -> Result<Imported, Error> {
    let read = vcard::parse(bytes);
    let batch = db.batch()?;
    let mut change = Change::default();
    for card in read.cards {
        if card.identities.is_empty() {
            let Some(name) = card.name else { continue };
            let key = match &card.uid {
                Some(uid) => format!("vcard-uid:{uid}"),
                None => format!("vcard-name:{name}"),
            };
            let id = identity::implicit_contact(&key);
            batch.put_contact(&id, Some(&name))?;
            let identities = batch.identities_of(&id)?.into_iter().collect();
            change
                .contacts
                .push(contact_record(&id, Some(name), &identities, true));
            continue;
        }
        let identities: Vec<String> = card
            .identities
            .into_iter()
            .filter(|identity| !user.is_user(identity))
            .collect();
        let mut existing = None;
        for identity in &identities {
            if let Some(contact) = batch.contact_of(identity)? {
                existing = Some(contact);
                break;
            }
        }
        let keep_name = match &existing {
            Some(id) => batch.contact(id)?.flatten().is_some(),
            None => false,
        };
        let name = if keep_name {
            None
        } else {
            card.name.as_deref()
        };
        let mut names: Vec<Named> = existing.into_iter().map(Named::Contact).collect();
        names.extend(identities.into_iter().map(Named::Identity));
        let one = link_in(&batch, names, name)?;
        change.identities.extend(one.identities);
        change.contacts.extend(one.contacts);
    }
    batch.commit()?;
    Ok(Imported {
        change,
        problems: read.problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::BindingState;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        (dir, db)
    }

    fn user() -> User {
        let mut config = Config::default();
        config.identity.addresses = vec!["me@example.org".into(), "@me@social.example".into()];
        User::from_config(&config)
    }

    #[test]
    fn linking_an_unknown_address_keeps_the_first_ones_id() {
        let (_dir, mut db) = db();
        let alice = identity::parse("alice@example.org").unwrap();
        let change = link(
            &mut db,
            &user(),
            &["alice@example.org".into(), "@alice@social.example".into()],
            Some("Alice"),
        )
        .unwrap();
        assert_eq!(change.contacts[0].id, identity::implicit_contact(&alice));
        assert_eq!(
            change.contacts[0].identities,
            ["email:alice@example.org", "mastodon:@alice@social.example"]
        );
        let directory = Directory::load(&db).unwrap();
        assert_eq!(
            directory.contact_of("mastodon:@alice@social.example"),
            identity::implicit_contact(&alice)
        );
    }

    #[test]
    fn unlinking_the_identity_a_contact_was_named_after_renames_the_contact() {
        let (_dir, mut db) = db();
        let u = user();
        link(
            &mut db,
            &u,
            &["a@example.org".into(), "twitter:@a".into()],
            None,
        )
        .unwrap();
        let change = unlink(&mut db, &u, &["a@example.org".into()]).unwrap();
        assert_eq!(
            change.contacts[0].id,
            identity::implicit_contact("twitter:@a")
        );
        let directory = Directory::load(&db).unwrap();
        assert_ne!(
            directory.contact_of("email:a@example.org"),
            directory.contact_of("twitter:@a")
        );
    }

    #[test]
    fn linking_two_contacts_merges_them_and_keeps_a_name() {
        let (_dir, mut db) = db();
        let u = user();
        let a = link(&mut db, &u, &["a@example.org".into()], Some("Ann")).unwrap();
        let b = link(
            &mut db,
            &u,
            &["b@example.net".into(), "tel:+15550100".into()],
            None,
        )
        .unwrap();
        let merged = link(
            &mut db,
            &u,
            &[b.contacts[0].id.clone(), a.contacts[0].id.clone()],
            None,
        )
        .unwrap();
        assert_eq!(merged.contacts[0].name.as_deref(), Some("Ann"));
        assert_eq!(merged.contacts[0].identities.len(), 3);
        assert_eq!(db.contacts().unwrap().len(), 1);
    }

    #[test]
    fn the_users_own_identity_cannot_be_linked() {
        let (_dir, mut db) = db();
        let error = link(&mut db, &user(), &["me@example.org".into()], None).unwrap_err();
        assert!(matches!(error, Error::OwnIdentity(_)), "{error}");
        assert!(user().is_user("mastodon:@me@social.example"));
        assert!(!user().is_user("email:you@example.org"));
    }

    #[test]
    fn addresses_bound_to_one_certificate_are_one_contact() {
        let (_dir, mut db) = db();
        let batch = db.batch().unwrap();
        for (address, fingerprint, state) in [
            ("ann@example.org", "AAAA", BindingState::Tofu),
            ("ann@work.example.net", "AAAA", BindingState::Verified),
            ("ann@old.example.com", "AAAA", BindingState::Conflict),
            ("solo@example.org", "BBBB", BindingState::Tofu),
        ] {
            batch
                .put_binding(&crate::store::db::Binding {
                    address: address.into(),
                    fingerprint: fingerprint.into(),
                    source: "autocrypt".into(),
                    state,
                    replaces: None,
                    first_seen: 1,
                    last_seen: 1,
                })
                .unwrap();
        }
        batch.commit().unwrap();
        let directory = Directory::load(&db).unwrap();
        let ann = directory.contact_of("email:Ann@Example.org");
        assert_eq!(ann, directory.contact_of("email:ann@work.example.net"));
        assert_eq!(
            directory.describe("email:Ann@Example.org").identities,
            ["email:Ann@Example.org", "email:ann@work.example.net"]
        );
        assert_ne!(ann, directory.contact_of("email:ann@old.example.com"));
        assert_eq!(
            directory.contact_of("email:solo@example.org"),
            identity::implicit_contact("email:solo@example.org")
        );

        link(
            &mut db,
            &user(),
            &["ann@work.example.net".into(), "twitter:@ann".into()],
            None,
        )
        .unwrap();
        let directory = Directory::load(&db).unwrap();
        assert_eq!(
            directory.contact_of("email:ann@example.org"),
            directory.contact_of("twitter:@ann"),
            "the certificate joins the linked contact"
        );
    }

    #[test]
    fn importing_a_card_twice_gives_one_contact() {
        let (_dir, mut db) = db();
        let card = "BEGIN:VCARD\nVERSION:3.0\nFN:Gus\nEMAIL:gus@example.org\nTEL:+44 20 7946 0000\nEND:VCARD\n";
        import(&mut db, &user(), card.as_bytes()).unwrap();
        import(&mut db, &user(), card.as_bytes()).unwrap();
        let directory = Directory::load(&db).unwrap();
        let list = directory.list(false);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name.as_deref(), Some("Gus"));
        assert_eq!(
            list[0].identities,
            ["email:gus@example.org", "tel:+442079460000"]
        );
    }
}
