"""The prediction runtime: fast predictors (:mod:`.inference`), the ONNX graph toolkit the
plugins build their subgraphs with (:mod:`.onnx_graph`), the export that composes them
(:mod:`.onnx_export`), prediction and generation on Dask (:mod:`.distributed`), the compiled
single-point path (:mod:`.single`, kernels in :mod:`.point_kernels`) and the thread policy
(:mod:`.threads`)."""
