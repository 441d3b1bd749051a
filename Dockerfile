# A static strait binary on an empty base image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /strait .

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /strait /strait
EXPOSE 6969 6970 6971 8888
USER 65532:65532
ENTRYPOINT ["/strait"]
