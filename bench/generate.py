"""A deterministic site of N synthetic talks (about 230 words each) for the benchmark.

The same N always gives the same bytes: one seeded random generator, no clock, no locale.
Items are spread over editions of at most 1,000 (a site that keeps every past edition),
with a paper session now and then so papers are indexed too.
"""

from __future__ import annotations

import argparse
import random
from datetime import datetime, timedelta
from pathlib import Path

ITEMS_PER_EDITION = 1000
ABSTRACT_WORDS = 170
BIO_WORDS = 45
SEED = 20240623


def _split(text: str) -> list[str]:
    return text.split()


# Real words so stemming and stop words do real work; pseudo-words give a long Zipf tail
# (a large conference has a large vocabulary: new terms keep arriving as N grows).
_WORDS = _split("""
the of and to in a is that for on with as by this we are from an be at which our it
model models training inference energy efficient efficiency hardware accelerator accelerators
neural network networks deep learning sparse sparsity pruning quantization quantized
compression memory bandwidth latency throughput edge devices mobile embedded processor
processors compiler compilers graph graphs tensor tensors kernel kernels cache caches
arithmetic precision mixed integer floating point vision language transformer transformers
attention convolution convolutional recurrent benchmark benchmarks dataset datasets
evaluation evaluations results show propose proposed approach approaches method methods
performance power consumption area design designs architecture architectures system systems
software co-design optimization optimizations optimizing scheduling distributed parallel
parallelism data flow dataflow mapping mappings search space exploration framework
frameworks implementation implementations analysis analyses challenge challenges
opportunity opportunities future work talk present presents presenting discuss discusses
researcher researchers professor student students university industry laboratory
previously received degree interests include worked working leads leading group groups
array arrays delay delays berkeley trying tried query queries happily relational
generalization generalizations conditional rational digitizer operator operators
""")
_SYLLABLES = _split("ka ri to na mo se lu vi de pa zo che tri bel gan for mis qua ten rou")
_FIRST = _split("""Xuehai Vivienne Song Inês Jörg Hiroshi Anaïs Łukasz Chen Priya Olusegun María
Søren Zoë Mateo Aiko Kwame François Björn Ngozi Yuki Ahmet Çelik Dmitri Elif Rafael""")
_LAST = _split("""Qian Sze Han García Müller Tanaka Dubois Kowalski Wang Raman Adeyemi López Ørsted
Novak Rossi Sato Mensah Lefèvre Andersson Okafor Suzuki Yılmaz Petrov Kaya Costa""")
_PLACES = _split("""Stanford MIT Berkeley Toronto Tsinghua Zürich Kyoto Lisbon Montréal Delft Lagos
Bangalore Seoul Munich Oxford Cambridge Austin Haifa São-Paulo Kraków""")
_ORGS = ["University", "Institute of Technology", "Research Lab", "Polytechnic", "AI Center"]


class _Text:
    """Zipf-distributed words from a fixed vocabulary plus a pseudo-word tail."""

    def __init__(self, rng: random.Random, tail: int) -> None:
        self.rng = rng
        pseudo = {
            "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(tail)
        }
        self.vocabulary = _WORDS + sorted(pseudo)
        self.weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(self.vocabulary))]

    def words(self, count: int) -> list[str]:
        return self.rng.choices(self.vocabulary, self.weights, k=count)

    def sentence_block(self, count: int) -> str:
        out = []
        words = self.words(count)
        for start in range(0, count, 14):
            chunk = words[start : start + 14]
            out.append(" ".join(chunk).capitalize() + ".")
        return " ".join(out)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _affiliation(rng: random.Random) -> str:
    return f"{rng.choice(_PLACES)} {rng.choice(_ORGS)}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def item_text(rng: random.Random, text: _Text, edition: str, start: datetime, number: int) -> str:
    """One Markdown schedule item: frontmatter, an abstract and a bio."""
    end = start + timedelta(minutes=25)
    title = " ".join(text.words(rng.randint(5, 10))).capitalize()
    name = _name(rng)
    kind = "paper_session" if number % 50 == 49 else ("keynote" if number % 20 == 0 else "talk")
    lines = [
        "---",
        f"edition: {edition}",
        f"type: {kind}",
        f"time_start: {start:%Y-%m-%d %H:%M:%S}",
        f"time_end: {end:%Y-%m-%d %H:%M:%S}",
        f"title: {_quote(title)}",
    ]
    if kind == "paper_session":
        lines.append("papers:")
        for _ in range(4):
            authors = ", ".join(_name(rng) for _ in range(rng.randint(1, 3)))
            paper_title = " ".join(text.words(rng.randint(6, 11))).capitalize()
            lines += [
                f"    - title: {_quote(paper_title)}",
                f"      authors: {_quote(authors)}",
                f"      affiliation: {_quote(_affiliation(rng))}",
            ]
    else:
        lines += [
            "speaker:",
            f"    name: {_quote(name)}",
            f"    affiliation: {_quote(_affiliation(rng))}",
        ]
    lines.append("---")
    body = text.sentence_block(ABSTRACT_WORDS)
    if kind != "paper_session":
        body += f"\n\n**{name}** {text.sentence_block(BIO_WORDS)}"
    return "\n".join(lines) + "\n" + body + "\n"


def generate(target: Path, count: int, seed: int = SEED) -> Path:
    """Write `count` items (and a pipeline.toml) under target/; returns the content folder."""
    rng = random.Random(seed)
    text = _Text(rng, tail=4000 + count * 2)
    content = target / "content"
    content.mkdir(parents=True, exist_ok=True)
    editions = max(1, -(-count // ITEMS_PER_EDITION))
    config = ["[site]", 'title = "Synthetic conference"', 'timezone = "UTC"', ""]
    for year in range(2000, 2000 + editions):
        config += [f"[editions.conf-{year}]", f'name = "Conference {year}"', 'timezone = "UTC"', ""]
    for number in range(count):
        edition_number = number * editions // count
        edition = f"conf-{2000 + edition_number}"
        first_day = datetime(2000 + edition_number, 6, 1, 8, 0)
        slot = number % ITEMS_PER_EDITION
        # Ten parallel tracks, twenty slots a day.
        start = first_day + timedelta(days=slot // 200, minutes=30 * ((slot // 10) % 20))
        folder = content / edition
        folder.mkdir(exist_ok=True)
        (folder / f"item-{number:05d}.md").write_text(
            item_text(rng, text, edition, start, number), encoding="utf-8"
        )
    (target / "pipeline.toml").write_text("\n".join(config), encoding="utf-8")
    return content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    print(generate(args.target, args.count))


if __name__ == "__main__":
    main()
