"""Every relative link in the README and docs/ points at a file that exists, and at a heading that exists.

Why: the README is short and sends readers to docs/, to the generated model cards and to result
files; when a file moves or a heading is renamed, the link breaks silently. A link to a Markdown
heading is checked against the anchor GitHub would give that heading.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def prose(markdown: str) -> str:
    """The text outside code: a `# comment` in a code block is not a heading, `[x](y)` in code is not a link."""
    return FENCED_BLOCK.sub("", markdown)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading renders as its text
    text = re.sub(r"[`*]", "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    result = set()
    for heading in HEADING.findall(prose(markdown)):
        anchor = github_anchor(heading)
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        result.add(anchor if count == 0 else f"{anchor}-{count}")
    return result


def relative_links(markdown: str) -> list[str]:
    """The targets of the inline links that stay inside the repository."""
    text = INLINE_CODE.sub("", prose(markdown))
    return [target for target in INLINE_LINK.findall(text) if not EXTERNAL.match(target)]


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of ``document`` (empty when every link resolves inside ``root``)."""
    root = root.resolve()
    problems = []
    for target in relative_links(document.read_text(encoding="utf-8")):
        path_part, _, anchor = target.partition("#")
        path = (document.parent / unquote(path_part)).resolve() if path_part else document
        if not path.exists():
            problems.append(f"{target}: no such file")
        elif not path.is_relative_to(root):
            problems.append(f"{target}: outside the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path.read_text(encoding="utf-8")):
            problems.append(f"{target}: no heading with anchor #{anchor} in {path.relative_to(root)}")
    return problems


def test_documents_exist():
    assert (ROOT / "README.md").is_file()
    assert len(DOCUMENTS) > 1, "docs/ holds no Markdown file"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_resolve(document: Path):
    assert broken_links(document) == []


def test_the_checker_finds_what_it_should(tmp_path: Path):
    """The checker itself: a missing file, a missing anchor and a link to a renamed heading are caught;
    code, external links and good anchors are not."""
    (tmp_path / "other.md").write_text("# Speed on 2 CPU cores\n\n## Not a sign, not a crop\n\n## Open work\n\n"
                                       "## Open work\n", encoding="utf-8")
    document = tmp_path / "page.md"
    document.write_text(
        "## The `unknown` threshold\n\n"
        "[ok](other.md#speed-on-2-cpu-cores) [ok](other.md#not-a-sign-not-a-crop) [ok](other.md#open-work-1)\n"
        "[ok](#the-unknown-threshold) [web](https://example.org/x) `[code](missing.md)`\n"
        "```bash\n# not a heading\n[code](missing-too.md)\n```\n"
        "[gone](missing.md) [renamed](other.md#speed) [self](#nowhere)\n",
        encoding="utf-8")
    assert [problem.split(":")[0] for problem in broken_links(document, root=tmp_path)] == [
        "missing.md", "other.md#speed", "#nowhere"]
