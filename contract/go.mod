module chirp/contract

go 1.26
