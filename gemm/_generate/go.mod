module github.com/preconv/preconv/gemm/_generate

go 1.26.8
