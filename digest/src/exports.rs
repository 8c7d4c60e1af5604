//! The wasm interface, for `widget/js/digest.js`: up to [`SLOTS`] checksums at once, each in a
//! slot of its own, their bytes written into [`input`]'s buffer a piece at a time.
//!
//! ```js
//! start(slot, code);      // 0: MD5, 1: CRC-32, 2: MD5 and CRC-64/NVME; false for another code
//! memory.set(piece, input()); update(slot, piece.length);  // pieces of at most INPUT_SIZE bytes
//! const length = finish(slot);                         // the digest is at output(), `length` bytes
//! ```
//!
//! The state is global: a wasm instance runs on one thread, and JS calls these one after
//! another, never from inside one another. Several slots let a worker read several files at
//! once, each read's wait overlapping the others', while each piece is hashed whole in one call.

use core::ptr::{addr_of, addr_of_mut};

use crate::hasher::{Algorithm, Hasher, Tables, MAX_DIGEST};

/// The most bytes one `update` takes: 256 KiB, a few milliseconds of hashing, which keeps
/// each slice short when the page's own thread does the work.
const INPUT_SIZE: usize = 1 << 18;

/// How many checksums may be under way at once (`digest.js` keeps to it).
pub const SLOTS: usize = 8;

static mut INPUT: [u8; INPUT_SIZE] = [0; INPUT_SIZE];
static mut OUTPUT: [u8; MAX_DIGEST] = [0; MAX_DIGEST];
static mut RUNNING: [Option<Hasher>; SLOTS] = [const { None }; SLOTS];
/// Built by the first `start`.
static mut TABLES: Option<Tables> = None;

/// Where JS writes the bytes of the next `update`.
#[no_mangle]
pub extern "C" fn input() -> *mut u8 {
    addr_of_mut!(INPUT).cast()
}

/// Where `finish` wrote the digest.
#[no_mangle]
pub extern "C" fn output() -> *const u8 {
    addr_of!(OUTPUT).cast()
}

/// The checksum under way in `slot`, if the slot exists.
///
/// # Safety
/// One thread, no re-entry (see the module's documentation): no other reference to the slot
/// lives while the one answered does.
unsafe fn slot_mut(slot: usize) -> Option<&'static mut Option<Hasher>> {
    (*addr_of_mut!(RUNNING)).get_mut(slot)
}

/// Starts a checksum with the algorithm of `code` in `slot`, dropping any unfinished one there;
/// answers whether the slot exists and the code names an algorithm.
#[no_mangle]
pub extern "C" fn start(slot: usize, code: u32) -> bool {
    // SAFETY: one thread, no re-entry (see the module's documentation); the tables, once
    // built, are never written again, so the shared reference lives as long as the instance.
    unsafe {
        let tables: &'static Tables = (*addr_of_mut!(TABLES)).get_or_insert_with(Tables::new);
        let (Some(running), Some(algorithm)) = (slot_mut(slot), Algorithm::from_code(code)) else {
            return false;
        };
        *running = Some(Hasher::new(algorithm, tables));
        true
    }
}

/// Adds the first `length` bytes of the input buffer (at most its size) to the checksum in
/// `slot`.
#[no_mangle]
pub extern "C" fn update(slot: usize, length: usize) {
    // SAFETY: as in `start`; the buffer is only read here, and JS writes it only between calls.
    unsafe {
        let input: &[u8; INPUT_SIZE] = &*addr_of!(INPUT);
        let bytes = &input[..length.min(INPUT_SIZE)];
        if let Some(Some(hasher)) = slot_mut(slot) {
            hasher.update(bytes);
        }
    }
}

/// Ends the checksum in `slot`: writes its digest at `output()` and answers its length (0 when
/// none was started there).
#[no_mangle]
pub extern "C" fn finish(slot: usize) -> usize {
    // SAFETY: as in `start`.
    unsafe {
        match slot_mut(slot).and_then(Option::take) {
            Some(hasher) => hasher.finish(&mut *addr_of_mut!(OUTPUT)),
            None => 0,
        }
    }
}

/// JS sees a panic as a trap (`unreachable`), which fails the checksum it was computing. None is
/// expected: lengths are clamped, slots checked, and the crates do not panic on any input.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
