"""Data and learning: datasets and readers (:mod:`.data`), data generation from a process
(:mod:`.generate`), the training loop (:mod:`.loop`) and the precision metrics on the physical
quantity (:mod:`.metrics`)."""
