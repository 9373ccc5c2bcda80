//! Process-wide tuning of the `billrisk` binary (not of the library): the memory allocator, and
//! the Polars settings that Polars reads from the environment, set before any thread starts.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read when it starts (before `main`), under the name its prefixed build
/// looks for; `_RJEM_MALLOC_CONF` in the environment still overrides them. `oversize_threshold`:
/// by default jemalloc serves every allocation over 8 MiB from an arena of its own that hands the
/// pages back to the kernel as soon as they are freed, and Polars allocates and frees buffers
/// that large all the time (columns of a morsel, hash tables, sort buffers), so the kernel zeroed
/// fresh pages for each (clear_page and page faults led a `perf` profile of a run from the
/// converted 1M folder, and 1.2 s of its 4.4 s CPU were sys). Allocations up to 32 MiB now come
/// from the ordinary arenas, where freed pages are reused and go back after jemalloc's usual
/// decay (10 s). At 10.8M usage rows: sys 13.4 -> 7.3 s, peak 2.17 -> 2.43 GiB; with no
/// threshold at all (0) sys was 6.5 s but the peak 2.78 GiB, too close to the 3 GiB target.
/// Measured in the README ("How fast it is").
///
/// `percpu_arena:percpu` (Linux): one arena per CPU, chosen by the CPU a thread runs on, instead
/// of jemalloc's default of four arenas per CPU handed to threads in turn. A run has 20-25 threads
/// (Polars' pool and its streaming executor, rayon's pool for the files, the writers), so with
/// eight arenas memory one thread freed sat in an arena the next allocating thread did not use,
/// and came back as fresh pages (page faults and zeroing). Alternating runs of the same binary, the
/// option set in the environment: from the converted 1M folder 1.70 s instead of 1.90 (medians of
/// 8; page faults 102k instead of 162k, peak 444 MB instead of 678); from the 1M CSV exports 4.83
/// s instead of 5.02 (6 each, peak 497 MB instead of 775); from the 10M exports 45.6-52.2 s
/// instead of 44.2-56.7 (3 each), peak 2.37-2.42 GiB instead of 2.27-2.34. `narenas:2` saved as
/// much at 1M, but on 25 threads two of its four 10M runs from CSV stalled (62 and 77 s).
#[cfg(all(not(target_env = "msvc"), target_os = "linux"))]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: MallocConf =
    MallocConf(c"oversize_threshold:33554432,percpu_arena:percpu".as_ptr());

/// Elsewhere, jemalloc's arenas as they come (per-CPU arenas need Linux's `sched_getcpu`).
#[cfg(all(not(target_env = "msvc"), not(target_os = "linux")))]
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: MallocConf = MallocConf(c"oversize_threshold:33554432".as_ptr());

/// A C string pointer in a static (jemalloc reads `const char *malloc_conf`).
#[cfg(not(target_env = "msvc"))]
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: the pointer is to a string literal, never written, valid for the whole program.
#[cfg(not(target_env = "msvc"))]
unsafe impl Sync for MallocConf {}

/// Groups per thread that Polars' streaming group-by aggregates as the rows arrive (its default is
/// 4096). The rows of any other group are kept, keys and values, until the end of the input: the
/// usage summary has 120k groups at 10.8M usage lines in no useful order, so with the default it
/// held nearly every line's seven text keys, and a 10.8M-row run from Parquet peaked at 2.8-3.1
/// GiB. With 65536 the same run peaked at 2.5 GiB (the summary's plan alone 1.9 GiB instead of
/// 2.8) and took 4 % longer in two paired runs (53.0 -> 56.1 s, 57.8 -> 60.4 s); at 1M rows it
/// takes 0.8 GiB instead of 0.7. Read by Polars when it builds each group-by, from
/// the environment, so it is set here before any thread starts; a value set by the user wins.
const HOT_TABLE_SIZE: &str = "65536";

/// The process's tuning: Polars' variables ([`tune_polars`]) and the memory handed back between
/// stages ([`release_free_memory`]). Call first thing in `main`, while the process has one thread.
pub fn tune() {
    tune_polars();
    #[cfg(not(target_env = "msvc"))]
    billrisk::progress::set_memory_release(release_free_memory);
}

/// Hands the pages of every jemalloc arena that hold only freed memory back to the kernel, at once
/// rather than after jemalloc's decay of 10 s: run before each stage of a run, so that what one
/// stage freed does not stay resident under the next one. At 10.8M usage rows from the CSV
/// exports, usage_daily's stage started with 1.6 GiB resident of which most was freed memory of
/// the checking stage, and the run peaked at 3.1-3.2 GiB, over the 3 GiB target of issue 18
/// (measured in the README, "How fast it is"). Only when the process holds more than
/// [`RELEASE_ABOVE_GIB`]: the pages handed back are faulted in and zeroed again by the next
/// stage, which cost a 1M-row run 10-20 % of its time when done before every stage.
#[cfg(not(target_env = "msvc"))]
fn release_free_memory() {
    if billrisk::progress::resident_memory_gib().is_none_or(|g| g < RELEASE_ABOVE_GIB) {
        return;
    }
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena. No value is read or written.
    let name = c"arena.4096.purge";
    // SAFETY: a NUL-terminated name of jemalloc's documented purge control, with null old and
    // new values as the control takes none; jemalloc is the global allocator, so initialised.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

/// Resident memory (GiB, Linux's VmRSS) above which [`release_free_memory`] hands freed memory
/// back; elsewhere, where it cannot be read, nothing is handed back early.
#[cfg(not(target_env = "msvc"))]
const RELEASE_ABOVE_GIB: f64 = 1.0;

/// Sets Polars' tuning variables the user has not set, while the process has one thread
/// (setting the environment is not thread-safe).
fn tune_polars() {
    if std::env::var_os("POLARS_HOT_TABLE_SIZE").is_none() {
        std::env::set_var("POLARS_HOT_TABLE_SIZE", HOT_TABLE_SIZE);
    }
}
