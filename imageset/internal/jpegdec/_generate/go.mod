module jpegdecgen

go 1.26
