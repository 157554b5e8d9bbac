"""Tables: the data contract, reading and atomic writing, the synthetic company."""
