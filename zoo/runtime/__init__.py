"""The prediction runtime: fast predictors (:mod:`.inference`), the ONNX graph toolkit the
plugins build their subgraphs with (:mod:`.onnx_graph`), the export that composes them
(:mod:`.onnx_export`) and prediction and generation on Dask (:mod:`.distributed`)."""
