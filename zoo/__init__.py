"""The inrzoo model zoo: models trained on INR weight datasets (inr2vec, NetSpace, draping)."""
