FROM httpd:2.4.62-bookworm
COPY site/ /usr/local/apache2/htdocs/