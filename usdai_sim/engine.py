"""Monte Carlo engine: split paths into work blocks, run them (in worker processes if asked), merge.

Work blocks are whole seed blocks (``rng.SEED_BLOCK`` paths), so the result of a path never depends on
the block size or the worker count. Per-path series stream into a disk-backed array; everything else
a block returns is per path or per seed block and is concatenated in path order.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from usdai_sim.agents import borrowers as br
from usdai_sim.blocks import BlockOutput
from usdai_sim.errors import RunTooLargeError
from usdai_sim.executors import Executor, LocalExecutor
from usdai_sim.holder_outcomes import holder_columns
from usdai_sim.intervals import seasoning_column_names
from usdai_sim.ledger import COLUMNS
from usdai_sim.machine_recovery import machine_columns
from usdai_sim.model import UsdaiModel
from usdai_sim.params import DAYS_PER_YEAR, Params, borrower_columns, compile_params
from usdai_sim.progress import TqdmProgress
from usdai_sim.recorder import record_count, series_names
from usdai_sim.results import Results, build_results
from usdai_sim.rng import SEED_BLOCK
from usdai_sim.scenario.schema import Scenario
from usdai_sim.series import SeriesFile

Progress = Callable[[int, int], None]
BLOCK_STATE_BUDGET_BYTES = 256 * 2**20
BYTES_PER_BORROWER_PATH = 8 * 120
BYTES_PER_DEPOSITOR_PATH = 8 * 48  # parameters, book, stress accounts, draws and step temporaries
BYTES_PER_UNSTAKED_HOLDER_PATH = 8 * 18


def with_overrides(scenario: Scenario, paths: int | None = None, seed: int | None = None) -> Scenario:
    """The scenario with its path count and seed replaced where given."""
    update = {k: v for k, v in (("paths", paths), ("seed", seed)) if v is not None}
    if not update:
        return scenario
    sim = scenario.simulation.model_copy(update=update)
    return scenario.model_copy(update={"simulation": sim})


def bytes_per_path(scenario: Scenario) -> int:
    """Estimated in-memory state of one path in a work block (bytes)."""
    return (
        borrower_columns(scenario) * BYTES_PER_BORROWER_PATH
        + scenario.depositors.count * BYTES_PER_DEPOSITOR_PATH
        + scenario.depositors.unstaked.count * BYTES_PER_UNSTAKED_HOLDER_PATH
    )


def plan_blocks(
    n_paths: int, scenario: Scenario, workers: int, block_paths: int | None
) -> list[tuple[int, int]]:
    """(first path, path count) of each work block; every block is whole seed blocks (SEED_BLOCK paths) but the
    last, which may end on a partial one.

    With ``block_paths`` given, blocks of that size (rounded up to seed blocks). Otherwise the fewest blocks
    whose state fits BLOCK_STATE_BUDGET_BYTES, at least 4 per worker when there are several, their count
    rounded up to a multiple of ``workers`` and the seed blocks shared out evenly (sizes differ by at most
    one seed block), so that no worker is left running the last block alone (large workload, 2 workers:
    17 blocks of 608 paths, the last of 272, became 20 of 464–512).
    """
    if block_paths is not None:
        size = max(SEED_BLOCK, -(-block_paths // SEED_BLOCK) * SEED_BLOCK)
        return [(start, min(size, n_paths - start)) for start in range(0, n_paths, size)]
    seeds = -(-n_paths // SEED_BLOCK)
    fit = max(1, BLOCK_STATE_BUDGET_BYTES // max(bytes_per_path(scenario), 1) // SEED_BLOCK)
    count = max(-(-seeds // fit), 4 * workers if workers > 1 else 1)
    count = min(-(-count // workers) * workers, seeds)
    per_block, extra = divmod(seeds, count)
    blocks, start = [], 0
    for k in range(count):
        size = (per_block + (k < extra)) * SEED_BLOCK
        blocks.append((start, min(size, n_paths - start)))
        start += size
    return blocks


def check_memory(scenario: Scenario, workers: int, workdir: Path) -> None:
    """Refuse a run whose smallest work blocks or series file would not fit this machine."""
    total_ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    need = workers * SEED_BLOCK * bytes_per_path(scenario)
    sim = scenario.simulation
    series_bytes = (
        4
        * record_count(sim.n_steps, sim.record_every_steps)
        * len(series_names(scenario.class_names))
        * sim.paths
    )
    ledger_bytes = 8 * (sim.n_steps + 1) * len(COLUMNS) * (-(-sim.paths // SEED_BLOCK))
    if need + ledger_bytes > 0.6 * total_ram:
        raise RunTooLargeError(
            f"run needs about {(need + ledger_bytes) / 2**30:.1f} GiB of memory, more than this machine's budget "
            f"of {0.6 * total_ram / 2**30:.1f} GiB; use fewer borrowers, depositors or paths",
            key="simulation.paths",
            got=sim.paths,
        )
    free = shutil.disk_usage(workdir).free
    if series_bytes > 0.8 * free:
        suggestion = max(SEED_BLOCK, int(sim.paths * 0.8 * free / series_bytes) // SEED_BLOCK * SEED_BLOCK)
        raise RunTooLargeError(
            f"per-path series need {series_bytes / 2**30:.1f} GiB of scratch disk, more than is free; "
            f"use fewer paths (e.g. --paths {suggestion}) or a larger record_every_steps",
            key="simulation.paths",
            got=sim.paths,
        )


def run_block(
    scenario: Scenario,
    first_path: int,
    n_paths: int,
    series_file: str | None,
    check_invariants: bool = False,
    progress: Progress | None = None,
    return_series: bool = False,
) -> BlockOutput:
    """Simulate one work block to the horizon and return its outputs (with its series when ``return_series``
    and there is no series file to write them to)."""
    params = compile_params(scenario)
    sim = scenario.simulation
    shape = (record_count(sim.n_steps, sim.record_every_steps), len(series_names(scenario.class_names)), sim.paths)
    series_out = None if series_file is None else SeriesFile(series_file, shape).block(first_path, n_paths)
    model = UsdaiModel(params, first_path, n_paths, check_invariants, series_out)
    n_steps = scenario.simulation.n_steps
    for k in range(n_steps):
        model.step()
        if progress is not None:
            progress(n_paths, k + 1)
    if series_out is not None:
        series_out.close()
    model.remove_all_agents()  # drop the agent <-> model references so the block's arrays are freed
    rec = model.recorder
    output = BlockOutput(
        first_path,
        terminal_columns(model),
        rec.ledger_sums,
        rec.ltv_hist,
        rec.wait_hist,
        censored_waits(model, len(rec.wait_hist)),
        np.asarray(rec.series) if return_series and series_out is None else None,
    )
    del model, rec
    release_freed_memory()
    return output


def _libc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None where the C library has none, e.g. macOS or musl)."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return trim


_MALLOC_TRIM = _libc_malloc_trim()


def release_freed_memory() -> None:
    """Free a finished block's model now and hand the freed heap back to the operating system.

    A block's model sits in reference cycles (mesa agents, phases and the model point at each other), and
    the cyclic collector runs on counts of Python objects, not bytes: a few hundred objects holding
    hundreds of MiB of numpy state are not collected before the next block is built, so without this
    each block in a process added its state to the peak (large workload, one worker, 608-path blocks:
    611 → 745 → 915 MiB after blocks 1–3; with it 585 → 600 → 604 MiB). ``malloc_trim`` then returns
    the freed arenas, so a worker idles at its import footprint between blocks.
    """
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def censored_waits(m: UsdaiModel, n_bins: int) -> np.ndarray:
    """Histogram of the ages (days) of requests still pending at the horizon."""
    d = m.depositors
    ages = np.where(d.pending_shares > 0, m.day - d.request_day, np.nan)
    ages = ages[~np.isnan(ages)]
    return np.bincount(np.clip(np.rint(ages).astype(np.int64), 0, n_bins - 1), minlength=n_bins)


def terminal_columns(m: UsdaiModel) -> dict[str, np.ndarray]:
    """Per-path outcomes at the horizon (the columns of ``paths.parquet``)."""
    book, rec, sim = m.book, m.recorder, m.scenario.simulation
    defaulted = book.default_route > 0
    sold = book.status == br.CLOSED
    pending_age = np.where(m.depositors.pending_shares > 0, m.day - m.depositors.request_day, 0.0).max(axis=1)
    cols = {
        "path": np.arange(m.first_path, m.first_path + m.n_paths),
        "loans_originated": book.loans.sum(axis=1),
        "loans_defaulted": defaulted.sum(axis=1),
        "loan_years": book.active_days.sum(axis=1) / DAYS_PER_YEAR,
        **{
            f"defaults_{name}": (book.default_route == code).sum(axis=1)
            for code, name in enumerate(br.ROUTES, 1)
        },
        "principal_originated_usd": book.originated_usd.sum(axis=1),
        "exposure_at_default_usd": np.where(defaulted, book.ead_usd, 0.0).sum(axis=1),
        "loss_usd": book.loss_usd.sum(axis=1),
        "recovery_usd": book.recovered_usd.sum(axis=1),
        "sold_exposure_usd": np.where(book.status == br.CLOSED, book.ead_usd, 0.0).sum(axis=1),
        "unsold_defaulted_usd": np.where(book.status == br.DEFAULTED, book.principal_usd, 0.0).sum(axis=1),
        **seasoning_columns(m),
        **loss_columns(book, sold, m.params),
        **machine_columns(book, sold, m.params),
        "susdai_exchange_ratio_final": m.price_cons,
        "susdai_return_annualised": m.price_cons ** (365.0 / sim.horizon_days) - 1.0,
        "max_drawdown": rec.max_drawdown,
        "days_to_first_loss": rec.first_drop_day,
        "longest_wait_days": np.maximum(rec.longest_wait_days, pending_age),
        "queue_peak_fraction": rec.queue_peak_fraction,
        "first_loss_used_usd": m.scenario.protocol.first_loss_usd - m.vault.first_loss_left_usd,
        "usdai_backing_ratio_min": rec.backing_min,
        "nav_final_usd": m.nav_cons,
        "usdai_supply_final_usd": m.vault.supply_usd,
        **holder_columns(m),
        "tbill_growth_factor": rec.tbill_growth,
    }
    return cols


def seasoning_columns(m: UsdaiModel) -> dict[str, np.ndarray]:
    """Per path, by year on book y (``br.year_on_book_index``; y = 1 is the first year): defaults of loans in
    their y-th year and the loan-years performing loans spent there (``Recorder.days_on_book``)."""
    book = m.book
    years = br.year_on_book_index(m.params.borrowers.term_payments, book.payments_left)
    defaulted = book.default_route > 0
    cols: dict[str, np.ndarray] = {}
    for y in range(br.YEARS_ON_BOOK_BINS):
        defaults, loan_years = seasoning_column_names(y + 1)
        cols[defaults] = (defaulted & (years == y)).sum(axis=1)
        cols[loan_years] = m.recorder.days_on_book[:, y] / DAYS_PER_YEAR
    return cols


def loss_columns(book: br.BorrowerBook, sold: np.ndarray, params: Params) -> dict[str, np.ndarray]:
    """Per path: sold exposure and loss (net of recourse) by default route, GPU class and cohort (by index),
    and recoveries by source (USD)."""
    bp, scenario = params.borrowers, params.scenario
    groups = [(f"route_{name}", book.default_route == code) for code, name in enumerate(br.ROUTES, 1)]
    groups += [(f"class_{name}", bp.class_index == c) for c, name in enumerate(scenario.class_names)]
    groups += [(f"cohort_{i}", bp.cohort == i) for i in range(len(scenario.borrowers.cohorts))]
    cols: dict[str, np.ndarray] = {}
    for label, member in groups:
        mask = sold & member
        cols[f"sold_exposure_{label}_usd"] = np.where(mask, book.ead_usd, 0.0).sum(axis=1)
        cols[f"loss_{label}_usd"] = np.where(mask, book.loss_usd, 0.0).sum(axis=1)
    for source in ("reserve", "gpu", "recourse"):
        cols[f"recovery_{source}_usd"] = getattr(book, f"recovered_{source}_usd").sum(axis=1)
    return cols


def _run_inline(
    scenario: Scenario,
    blocks: list[tuple[int, int]],
    series_file: str,
    check_invariants: bool,
    progress: Progress | None,
) -> list[BlockOutput]:
    """Blocks one after another in this process, with progress every step."""
    n_steps = scenario.simulation.n_steps
    total = scenario.simulation.paths * n_steps
    outputs, done = [], 0
    for first, n in blocks:
        tick = None if progress is None else (lambda p, k, base=done: progress(base + p * k, total))
        outputs.append(run_block(scenario, first, n, series_file, check_invariants, tick))
        done += n * n_steps
    return outputs


def _store_series(series: SeriesFile, output: BlockOutput) -> None:
    """Write a block's returned series into the run's series file (for executors whose workers cannot)."""
    if output.series is None:
        return
    view = series.block(output.first_path, output.series.shape[2])
    for row, values in enumerate(output.series):
        view[row] = values
    view.close()
    output.series = None


def _run_all(
    scenario: Scenario,
    blocks: list[tuple[int, int]],
    series: SeriesFile,
    executor: Executor,
    check_invariants: bool,
    progress: Progress | None,
) -> list[BlockOutput]:
    if executor.workers <= 1 and isinstance(executor, LocalExecutor):
        return _run_inline(scenario, blocks, series.path, check_invariants, progress)
    n_steps, shared = scenario.simulation.n_steps, executor.shares_disk
    total = scenario.simulation.paths * n_steps
    file = series.path if shared else None
    tasks = [(scenario, first, n, file, check_invariants, None, not shared) for first, n in blocks]
    outputs: list[BlockOutput | None] = [None] * len(blocks)
    done = 0
    for i, output in executor.as_completed(run_block, tasks):
        _store_series(series, output)
        outputs[i] = output
        done += blocks[i][1] * n_steps
        if progress is not None:
            progress(done, total)
    return [o for o in outputs if o is not None]


def simulate(
    scenario: Scenario,
    paths: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    block_paths: int | None = None,
    check_invariants: bool = False,
    progress: Progress | None = None,
    keep_series: bool = False,
    quiet: bool = False,
    executor: Executor | None = None,
) -> Results:
    """Run a scenario's Monte Carlo and return its Results (bands, per-path table, ledger, summary).

    Work blocks run on ``executor`` (default: a local pool of ``workers`` processes); the results do not
    depend on it. Progress goes to ``progress(done, total)`` (path-steps) when given, else to a ``tqdm.auto``
    bar unless ``quiet``. ``keep_series`` keeps the per-path series for ``Results.to_xarray()``.
    """
    executor = LocalExecutor(workers) if executor is None else executor
    scenario = with_overrides(scenario, paths, seed)
    bar = TqdmProgress(scenario.name) if progress is None and not quiet else None
    try:
        return _simulate(scenario, executor, block_paths, check_invariants, progress or bar, keep_series)
    finally:
        if bar is not None:
            bar.close()


def _simulate(
    scenario: Scenario,
    executor: Executor,
    block_paths: int | None,
    check_invariants: bool,
    progress: Progress | None,
    keep_series: bool,
) -> Results:
    n_paths, workers = scenario.simulation.paths, executor.workers
    workdir = Path(tempfile.mkdtemp(prefix="usdai-sim-"))
    try:
        check_memory(scenario, max(1, workers), workdir)
        sim = scenario.simulation
        shape = (
            record_count(sim.n_steps, sim.record_every_steps),
            len(series_names(scenario.class_names)),
            n_paths,
        )
        series_file = str(workdir / "series.f32")
        series = SeriesFile.create(series_file, shape)
        started = time.perf_counter()
        blocks = plan_blocks(n_paths, scenario, max(1, workers), block_paths)
        outputs = _run_all(scenario, blocks, series, executor, check_invariants, progress)
        results = build_results(scenario, outputs, series, keep_series)
        results.timings["simulate_s"] = time.perf_counter() - started
        return results
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
