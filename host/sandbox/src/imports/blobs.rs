//! `blobs`: file contents the host holds, lent to the guest by reference.
//! The call's resource table holds each blob the guest can name (a byte
//! range of a host file); the guest sees its size, may read a little of it
//! and cut slices of it, and names it in `http.send-blob` or as a storage
//! function's argument or answer. Its bytes never have to enter the guest.

use patchbay_contract::bindings::patchbay::connector::blobs::{self as wit, Blob as WitBlob, BlobError};
use patchbay_outbound::BlobRange;
use wasmtime::component::{HasData, Resource, ResourceTable};

/// What `blobs` sees of a call: the table its blobs live in.
pub(crate) struct BlobsView<'a> {
    pub table: &'a mut ResourceTable,
}

/// A blob as the call's resource table holds it.
pub(crate) struct GuestBlob(BlobRange);

/// Largest read of a blob the guest may ask for at once.
const MAX_READ: u32 = 1024 * 1024;

/// Links `blobs` to a [`BlobsView`].
pub(crate) struct Blobs;

impl HasData for Blobs {
    type Data<'a> = BlobsView<'a>;
}

/// Why a blob could not be lent: the table is full.
pub(crate) const TOO_MANY: &str = "this call holds too many open resources: drop the blobs it no longer needs";

/// Puts `range` in the call's table, for the guest to name; `None` when
/// the call holds as many resources as its table's capacity allows.
pub(crate) fn lend(table: &mut ResourceTable, range: BlobRange) -> Option<Resource<WitBlob>> {
    let held = table.push(GuestBlob(range)).ok()?;
    Some(Resource::new_own(held.rep()))
}

/// The range a guest's handle names.
pub(crate) fn held<'t>(table: &'t ResourceTable, blob: &Resource<WitBlob>) -> wasmtime::Result<&'t BlobRange> {
    let GuestBlob(range) = table.get(&Resource::<GuestBlob>::new_borrow(blob.rep()))?;
    Ok(range)
}

/// Takes an owned handle out of the table: a blob the guest handed over.
pub(crate) fn take(table: &mut ResourceTable, blob: Resource<WitBlob>) -> wasmtime::Result<BlobRange> {
    let GuestBlob(range) = table.delete(Resource::<GuestBlob>::new_own(blob.rep()))?;
    Ok(range)
}

impl wit::Host for BlobsView<'_> {}

impl wit::HostBlob for BlobsView<'_> {
    async fn size(&mut self, blob: Resource<WitBlob>) -> wasmtime::Result<u64> {
        Ok(held(self.table, &blob)?.len())
    }

    async fn read(
        &mut self,
        blob: Resource<WitBlob>,
        offset: u64,
        max: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, BlobError>> {
        let range = held(self.table, &blob)?.clone();
        if offset > range.len() {
            return Ok(Err(BlobError::OutOfRange(format!(
                "offset {offset} lies past the blob's {} bytes",
                range.len()
            ))));
        }
        Ok(range
            .read_at(offset, max.min(MAX_READ) as usize)
            .await
            .map_err(|e| BlobError::Unavailable(format!("cannot read the blob: {e}"))))
    }

    async fn slice(
        &mut self,
        blob: Resource<WitBlob>,
        offset: u64,
        length: u64,
    ) -> wasmtime::Result<Result<Resource<WitBlob>, BlobError>> {
        let range = held(self.table, &blob)?;
        Ok(match range.slice(offset, length) {
            Ok(slice) => lend(self.table, slice).ok_or_else(|| BlobError::Unavailable(TOO_MANY.into())),
            Err(why) => Err(BlobError::OutOfRange(why)),
        })
    }

    async fn drop(&mut self, blob: Resource<WitBlob>) -> wasmtime::Result<()> {
        take(self.table, blob)?;
        Ok(())
    }
}
