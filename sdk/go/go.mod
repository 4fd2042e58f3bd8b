module github.com/stripemeter/stripemeter/sdk/go

go 1.19
