"""Which listed files a conversion may read: a bad file is one failed row, never a failed listing.

A local file that is no regular file (a FIFO would block the reader), a symbolic link that is
broken or leads outside the collection root (unless `follow_links`), or a name that is not
UTF-8 is listed as a failed ref: a ShapeRef whose meta[LISTING_ERROR] says why, which the
conversion records as a failed row without reading the file.
"""

from __future__ import annotations

from inrzoo.collections.base import ShapeRef

LISTING_ERROR = "listing_error"  # meta key: why a listed shape cannot be read (it becomes a failed row)


def failed_ref(ref: ShapeRef, reason: str) -> ShapeRef:
    """The same shape, marked so that conversion records it as a failed row without reading it
    (id and URI made valid UTF-8, so that they can be stored)."""
    from inrzoo.store.records import utf8_text

    return ShapeRef(utf8_text(ref.id), utf8_text(ref.uri), ref.label, ref.split, ref.kind,
                    {**ref.meta, LISTING_ERROR: f"{utf8_text(ref.uri)}: {reason}"})


def screen_file(ref: ShapeRef, root: str, follow_links: bool) -> ShapeRef:
    """`ref` marked failed if its local file cannot be read as a shape (see file_problem)."""
    if ref.meta.get(LISTING_ERROR):
        return ref
    problem = file_problem(ref.uri, root, follow_links)
    return failed_ref(ref, problem) if problem else ref


def file_problem(path: str, root: str, follow_links: bool) -> str | None:
    """Why a local file is not read (None: it is): no regular file (a FIFO would block the
    reader), a broken link, a link leading outside the root (unless follow_links), a name that
    is not UTF-8. Chosen: folders reached through links are not walked (fsspec lists a link,
    not its tree), so a link loop cannot hang the listing."""
    import os
    import stat

    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8 (rename the file)"
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            target = os.path.realpath(path)
            if not os.path.exists(target):
                return "broken symbolic link"
            real_root = os.path.realpath(root)
            if not follow_links and os.path.commonpath([real_root, target]) != real_root:
                return "symbolic link to a file outside the collection root (set source.follow_links: true to convert it)"
            mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return None if stat.S_ISREG(mode) else "not a regular file"
