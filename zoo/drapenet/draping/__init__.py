"""DrapeNet, part 2 (De Luigi's thesis, ch. 2 and app. A): draping garments on bodies of any shape and
pose, learned from physics alone. See README.md beside this file."""
