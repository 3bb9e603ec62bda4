//! skypool core: the byte-crunching loops of batch framing and partition
//! scanning, exposed as a raw C ABI over (ptr, len) buffers in linear memory.
//!
//! The TypeScript side (src/task/wasm_core.ts) owns all policy: it copies
//! bytes into a scratch area obtained from `sk_alloc` and calls these
//! functions chunk by chunk, so every function here is a pure, streaming
//! kernel that never fails and never panics (a panic would abort the whole
//! instance, and formatting machinery would bloat the module).

use core::arch::wasm32::{
    i8x16_bitmask, i8x16_eq, u8x16_splat, v128, v128_any_true, v128_load, v128_or,
};
use std::alloc::{alloc, dealloc, Layout};

/// CRC-32C (Castagnoli) polynomial, bit-reflected.
const POLY: u32 = 0x82F6_3B78;

/// Slicing-by-16 tables: `TABLE[k][b]` is the CRC contribution of byte `b`
/// followed by `k` zero bytes. Filled by `sk_init`; kept out of the data
/// section so the embedded module stays small (the fill takes microseconds).
static mut TABLE: [[u32; 256]; 16] = [[0; 256]; 16];

/// `x^(2^n) mod P` for n = 0..34, for `sk_crc32c_combine` (a u32 byte count
/// is at most 2^35 bit shifts). zlib indexes its table `k & 31`, relying on
/// x^(2^32) = x mod P, which holds for the gzip polynomial but not for
/// Castagnoli's, so the table covers every exponent instead.
static mut X2N: [u32; 35] = [0; 35];

/// Fills the lookup tables. The loader calls it once, right after
/// instantiation and before any other export.
#[no_mangle]
pub extern "C" fn sk_init() {
    unsafe {
        for b in 0..256usize {
            let mut c = b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            TABLE[0][b] = c;
        }
        for k in 1..16usize {
            for b in 0..256usize {
                let prev = TABLE[k - 1][b];
                TABLE[k][b] = (prev >> 8) ^ TABLE[0][(prev & 0xFF) as usize];
            }
        }
        let mut p: u32 = 1 << 30; // x^1
        X2N[0] = p;
        for n in 1..35usize {
            p = multmodp(p, p);
            X2N[n] = p;
        }
    }
}

/// Allocates `size` bytes (8-aligned) in linear memory; 0 if out of memory
/// or if `size` is 0. May grow memory, which detaches JS views of it.
#[no_mangle]
pub extern "C" fn sk_alloc(size: usize) -> *mut u8 {
    if size == 0 {
        return core::ptr::null_mut();
    }
    match Layout::from_size_align(size, 8) {
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// Frees a block from `sk_alloc`; `size` must be the size it was asked for.
#[no_mangle]
pub unsafe extern "C" fn sk_free(ptr: *mut u8, size: usize) {
    if ptr.is_null() || size == 0 {
        return;
    }
    if let Ok(layout) = Layout::from_size_align(size, 8) {
        dealloc(ptr, layout);
    }
}

#[inline(always)]
unsafe fn t(k: usize, i: u32) -> u32 {
    // i < 256 by construction at every call site (masked or shifted by 24).
    *TABLE.get_unchecked(k).get_unchecked(i as usize)
}

#[inline(always)]
unsafe fn load32(p: *const u8) -> u32 {
    u32::from_le((p as *const u32).read_unaligned())
}

/// One slicing-by-16 step on the raw (non-inverted) CRC register.
#[inline(always)]
unsafe fn step16(c: u32, p: *const u8) -> u32 {
    let a = load32(p) ^ c;
    let b = load32(p.add(4));
    let d = load32(p.add(8));
    let e = load32(p.add(12));
    t(15, a & 0xFF)
        ^ t(14, (a >> 8) & 0xFF)
        ^ t(13, (a >> 16) & 0xFF)
        ^ t(12, a >> 24)
        ^ t(11, b & 0xFF)
        ^ t(10, (b >> 8) & 0xFF)
        ^ t(9, (b >> 16) & 0xFF)
        ^ t(8, b >> 24)
        ^ t(7, d & 0xFF)
        ^ t(6, (d >> 8) & 0xFF)
        ^ t(5, (d >> 16) & 0xFF)
        ^ t(4, d >> 24)
        ^ t(3, e & 0xFF)
        ^ t(2, (e >> 8) & 0xFF)
        ^ t(1, (e >> 16) & 0xFF)
        ^ t(0, e >> 24)
}

/// Continues a CRC-32C: `crc` is the CRC of the bytes before (0 for none),
/// the result is the CRC of those bytes followed by `len` bytes at `ptr`.
/// Same convention as zlib's `crc32(crc, buf, len)`.
///
/// Slicing-by-16 runs at about one byte per cycle here; interleaving three
/// independent lanes was measured and did not help (the loop is bound by
/// instruction throughput, not by the table-load latency chain).
#[no_mangle]
pub unsafe extern "C" fn sk_crc32c(crc: u32, ptr: *const u8, len: usize) -> u32 {
    let mut c = !crc;
    let mut p = ptr;
    let mut n = len;
    while n >= 16 {
        c = step16(c, p);
        p = p.add(16);
        n -= 16;
    }
    while n > 0 {
        c = t(0, (c ^ *p as u32) & 0xFF) ^ (c >> 8);
        p = p.add(1);
        n -= 1;
    }
    !c
}

/// `a * b mod P` over GF(2), bit-reflected (zlib's `multmodp`).
fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m: u32 = 1 << 31;
    let mut p: u32 = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// CRC of the concatenation A ++ B from `crc1` = CRC(A), `crc2` = CRC(B)
/// and `len2` = |B|, in O(log len2) without touching the bytes. This is what
/// lets a batch be sliced with a single checksum pass over its payload.
#[no_mangle]
pub extern "C" fn sk_crc32c_combine(crc1: u32, crc2: u32, len2: u32) -> u32 {
    multmodp(x8nmodp(len2), crc1) ^ crc2
}

/// `x^(8 * n) mod P`: the shift of a CRC register past `n` bytes.
fn x8nmodp(mut n: u32) -> u32 {
    let mut p: u32 = 1 << 31; // x^0
    let mut k = 3usize; // 8 * n = 2^3 * n
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(unsafe { *X2N.get_unchecked(k) }, p); // k <= 34
        }
        n >>= 1;
        k += 1;
    }
    p
}

/// Index of the first `byte` in the `len` bytes at `ptr`, or -1. Uses
/// simd128: 64 bytes per iteration (four compares OR-ed, one branch).
#[no_mangle]
pub unsafe extern "C" fn sk_find_byte(ptr: *const u8, len: usize, byte: u32) -> i32 {
    find(ptr, len, byte)
}

/// Newline-aligned split points within one piece of a buffer, for parts of
/// at least `part_size` bytes (see src/task/newline_scan.ts for the exact
/// semantics). Starting at index `target`, repeatedly: find the first `\n`
/// at or after `target`, record the split just after it, and continue from
/// `split + part_size - 1`. Writes piece-relative splits to `out` (at most
/// `cap`) and returns how many; the caller resumes from the last one. A
/// split equal to `len` can be recorded: only the caller knows whether the
/// piece ends the buffer.
///
/// One call handles every split in a piece, so tiny parts cost a SIMD scan
/// rather than a JS-to-wasm call each. Requires `part_size >= 1` and
/// `len + part_size < 2^31`.
#[no_mangle]
pub unsafe extern "C" fn sk_newline_splits(
    ptr: *const u8,
    len: usize,
    target: usize,
    part_size: usize,
    out: *mut u32,
    cap: usize,
) -> usize {
    let mut t = target;
    let mut count = 0usize;
    while t < len && count < cap {
        let i = find(ptr.add(t), len - t, 0x0A);
        if i < 0 {
            break;
        }
        let split = t + i as usize + 1;
        *out.add(count) = split as u32;
        count += 1;
        t = split + part_size - 1;
    }
    count
}

#[inline(always)]
unsafe fn find(ptr: *const u8, len: usize, byte: u32) -> i32 {
    let needle = u8x16_splat(byte as u8);
    let mut i = 0usize;
    while i + 64 <= len {
        let p = ptr.add(i);
        let a = i8x16_eq(v128_load(p as *const v128), needle);
        let b = i8x16_eq(v128_load(p.add(16) as *const v128), needle);
        let c = i8x16_eq(v128_load(p.add(32) as *const v128), needle);
        let d = i8x16_eq(v128_load(p.add(48) as *const v128), needle);
        if v128_any_true(v128_or(v128_or(a, b), v128_or(c, d))) {
            let m = (i8x16_bitmask(a) as u64)
                | ((i8x16_bitmask(b) as u64) << 16)
                | ((i8x16_bitmask(c) as u64) << 32)
                | ((i8x16_bitmask(d) as u64) << 48);
            return (i + m.trailing_zeros() as usize) as i32;
        }
        i += 64;
    }
    while i + 16 <= len {
        let a = i8x16_eq(v128_load(ptr.add(i) as *const v128), needle);
        let m = i8x16_bitmask(a) as u32;
        if m != 0 {
            return (i + m.trailing_zeros() as usize) as i32;
        }
        i += 16;
    }
    let b = byte as u8;
    while i < len {
        if *ptr.add(i) == b {
            return i as i32;
        }
        i += 1;
    }
    -1
}
