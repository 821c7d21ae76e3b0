//! Scans an mbox file one message at a time, in constant memory; the format itself (where a
//! message starts, `>From ` quoting) is [`crate::email::mbox`]. A line too long for an mbox
//! (`mbox:/dev/zero`) ends the scan of the file with it reported in [`Scan::failed`]: the
//! messages before it are handed on, and the file is read again next time.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use super::{Error, Item, Known, Raw, Scan, Source, stamp};
use crate::email::mbox::{LineTooLong, Splitter};
use crate::record::{ErrorRecord, SourceRef};

/// An mbox file.
pub struct Mbox(pub PathBuf);

impl Source for Mbox {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let file = File::open(&self.0).map_err(|e| Error::io(&self.0, e))?;
        let metadata = file.metadata().map_err(|e| Error::io(&self.0, e))?;
        let key = self.0.display().to_string();
        let stamp = stamp(&metadata);
        let mut scan = Scan {
            containers: vec![(key.clone(), stamp)],
            ..Scan::default()
        };
        if known.files.get(&key) == Some(&stamp) {
            return Ok(scan);
        }
        let mut split = Splitter::new(BufReader::with_capacity(1 << 20, file));
        loop {
            let (offset, raw) = match split.next_message() {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err(e) => match e.get_ref().and_then(|e| e.downcast_ref::<LineTooLong>()) {
                    Some(too_long) => {
                        scan.containers.clear();
                        scan.failed
                            .push(ErrorRecord::new(key.clone(), too_long.to_string()));
                        break;
                    }
                    None => return Err(Error::io(&self.0, e)),
                },
            };
            emit(Item {
                raw: Raw::Bytes(raw),
                source: SourceRef {
                    kind: "mbox".into(),
                    path: Some(key.clone()),
                    offset: Some(offset),
                    ..SourceRef::default()
                },
                flags: Vec::new(),
                stamp: None,
                ephemeral: false,
                remote: None,
            })?;
        }
        Ok(scan)
    }
}
