"""Where a run's dataset is: the ``data_source`` of its model card, found even where the card stores it relative.

Cards written before the path was stored absolute hold it as given on the command line, relative to the folder the
run was made from.  Commands that read a run's dataset (reports, exports, the archive) resolve it here, once.
"""

from __future__ import annotations

from pathlib import Path

from riskmodel.errors import RiskModelError


def resolve_data_source(card: dict, run_dir: str | Path, file: str = "model_card.json") -> Path:
    """The dataset folder a run was made from, checked to exist.

    An absolute ``data_source`` is taken as it is.  A relative one (an old card's) is tried against the current
    folder, then against each folder above the run folder, nearest first: a run made in ``/srv/riskmodel`` with
    ``--data data/raw/company --out data/processed/run`` is found from anywhere.

    Parameters
    ----------
    card : dict
        The run's model card (or ``evaluation.json``): its ``data_source`` is read.
    run_dir : path-like
        The run folder the card belongs to.
    file : str, default='model_card.json'
        The file of the run folder that ``card`` was read from (named in the error message).

    Returns
    -------
    Path
        The dataset folder, absolute.

    Raises
    ------
    RiskModelError
        When the card names no data source, or none of the candidates is a folder: the message lists where it
        looked and says to give the dataset with ``--data DIR``.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()).resolve()
    >>> (root / "data" / "raw" / "company").mkdir(parents=True)
    >>> run = root / "data" / "processed" / "run"
    >>> resolve_data_source({"data_source": "data/raw/company"}, run) == root / "data" / "raw" / "company"
    True
    """
    run_dir = Path(run_dir)
    where = run_dir / file
    given = (card or {}).get("data_source")
    if not given:
        raise RiskModelError(f"{where} names no data_source: give the run's dataset with --data DIR, or set data_source "
                             f"in {where} to the dataset folder's absolute path")
    src = Path(given)
    if src.is_absolute():
        candidates = [src]
    else:  # the current folder first (as the path was given), then the folders above the run, nearest first
        candidates = list(dict.fromkeys([Path.cwd() / src, *(p / src for p in run_dir.resolve().parents)]))
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    looked = ", ".join(str(p) for p in candidates[:4]) + (f" and {len(candidates) - 4} more folders above" if len(candidates) > 4 else "")
    raise RiskModelError(f"the data of the run in {run_dir} ({where}: data_source {str(src)!r}) is not at {looked}: give "
                         f"the dataset with --data DIR where the command takes it, or set data_source in {where} to the "
                         f"dataset folder's absolute path")
