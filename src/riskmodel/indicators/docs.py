"""Documentation pages generated from the registry: one page per indicator and an index."""

from __future__ import annotations

from pathlib import Path

import yaml

from riskmodel.indicators.registry import all_indicators


#: how a data-derived fence is dated (see Indicator.thresholds_as_of)
_AS_OF = ("; the fence of each row is set from the values dated up to the end of its quarter, so no row is judged "
          "by later data")

def indicator_page(cls) -> str:
    d = cls.describe()
    params = yaml.safe_dump({d["id"]: d["parameters"]}, allow_unicode=True, sort_keys=False).strip()
    return f"""# {d['id']} {d['title_zh']} — {d['title_en']}

| | |
|---|---|
| entity scored | `{d['entity']}` ({d['grain']}) |
| tables read | {', '.join(f'`{t}`' for t in d['tables'])} |
| severity | {d['severity']} |
| threshold | {d['threshold_method']} ({'large' if d['direction'] == 'high' else 'small'} values are suspicious){_AS_OF if d['threshold_method'] in ('iqr', 'percentile') else ''} |

## Methodology
{d['methodology']}

## Example
{d['example'] or '—'}

## Why is this a red flag
{d['why']}

Source: {d['source']}

## Output
{d['output'] or 'value: see methodology.'} Every row carries the threshold used and how it was set (`threshold`,
`threshold_method`), `fired`, `severity`, `evidence` (transaction ids) and reason texts:
- 中文: {cls.reason_zh}
- English: {cls.reason_en}

## Configuration
In the settings file (`riskmodel.yaml`), defaults shown:
```yaml
indicators:
  {params.replace(chr(10), chr(10) + '  ')}
```

## Exclusions
{d['exclusions']}
"""


def index_page() -> str:
    rows = [f"| [{c.id}]({c.id}.md) | {c.title_zh} | {c.title_en} | `{c.entity}` | {c.severity} | {c.threshold_method} |"
            for c in all_indicators().values()]
    return ("# Red-flag indicator catalogue\n\nGenerated from the registry (`riskmodel indicators docs`); do not edit by hand.\n\n"
            "| id | 名称 | title | entity | severity | threshold |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def write_docs(out: str | Path) -> list[Path]:
    """Write ``index.md`` and one ``<ID>.md`` per indicator; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "index.md"]
    paths[0].write_text(index_page(), encoding="utf-8")
    for iid, cls in all_indicators().items():
        p = out / f"{iid}.md"
        p.write_text(indicator_page(cls), encoding="utf-8")
        paths.append(p)
    for stale in set(out.glob("*.md")) - set(paths):
        stale.unlink()
    return paths


def default_settings_section() -> dict:
    """The ``indicators`` section of the settings file, with every default (kept in settings.yaml)."""
    return {iid: cls.Params().model_dump(mode="json") for iid, cls in all_indicators().items()}
